"""Sign-in on a shared device: an enrolled device checks a user's password with headquarters.

The answer lets the device cache a verifier of that password for a while, so the same user can
sign in on the same device while it is offline (edge_client/sign_in.py). It opens no HQ
session and carries no token: what the user does on the device is pushed as mutations naming
them, and the server checks their account again as it applies each one.
"""

from __future__ import annotations

from datetime import datetime

from protocol.base import Message


class SignInRequest(Message, tag="sign_in"):
    protocol_version: int
    schema_version: int
    device_id: str  # must be the authenticated device's
    username: str
    password: str  # sent over the device's (TLS) connection only; never stored as such


class SignInResponse(Message, tag="signed_in"):
    user_id: str
    username: str
    display_name: str
    site_id: str | None  # None: the user works at every site
    roles: list[str]
    permissions: list[str]  # grants as stored: exact permissions and patterns (``inventory.*``)
    # Until when the device may sign this user in offline with the password it just saw;
    # after that it must ask again.
    valid_until: datetime
