"""Enrollment: a device joins one site and receives its id and bearer token.

An administrator issues a one-time enrollment code for a site and a role; the device presents
it once. The role bounds everything the device may push. The device also registers the public
half of the Ed25519 key it generated: from then on the token alone is not enough, every request
must be signed with that key.
"""

from __future__ import annotations

from protocol.base import Message


class EnrollRequest(Message, tag="enroll"):
    protocol_version: int
    schema_version: int
    site_id: str  # the site's id or code; must be the enrollment code's site
    device_name: str
    enrollment_code: str | None = None  # one-time, from HQ; required (the field is optional only on the wire)
    # The device's Ed25519 public key, raw 32 bytes in base64url without padding; required.
    # Every later sync request is signed with its private key (protocol/signing.py).
    public_key: str | None = None


class EnrollResponse(Message, tag="enrolled"):
    device_id: str
    token: str  # secret: sent as "Authorization: Bearer <token>" on every (signed) sync request
    site_id: str
    protocol_version: int
    schema_version: int
    role: str = ""  # the role the enrollment code gave this device
