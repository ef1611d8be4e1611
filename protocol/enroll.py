"""Enrollment: a device joins one site and receives its id and bearer token.

An administrator issues a one-time enrollment code for a site and a role; the device presents
it once. The role bounds everything the device may push.
"""

from __future__ import annotations

from protocol.base import Message


class EnrollRequest(Message, tag="enroll"):
    protocol_version: int
    schema_version: int
    site_id: str  # the site's id or code; must be the enrollment code's site
    device_name: str
    enrollment_code: str | None = None  # one-time, from HQ; required (the field is optional only on the wire)


class EnrollResponse(Message, tag="enrolled"):
    device_id: str
    token: str  # secret: sent as "Authorization: Bearer <token>" on every sync request
    site_id: str
    protocol_version: int
    schema_version: int
    role: str = ""  # the role the enrollment code gave this device
