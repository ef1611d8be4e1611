"""Server-only tables of users, roles and sign-in sessions (migration 0003). The server alone holds them; devices never receive a row..

Invariants:
- Passwords are stored only as scrypt hashes; tokens only as SHA-256 digests, so a copy of the
  database signs nobody in.
- A user's ``site_id`` limits every action to that site; NULL means every site (HQ staff).
- ``failed_logins`` and ``locked_until`` implement the lockout; a successful sign-in resets them.
- Sessions expire at ``expires_at`` and can be revoked earlier (sign-out, user disabled).
- An enrollment code enrolls one device, once, before it expires, for one site and one role.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Table, Text

from sync.schema import ID, metadata
from sync.types import UtcDateTime

hq_roles = Table(
    "hq_roles",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("grants_json", Text, nullable=False),  # JSON list of permissions and patterns
    Column("builtin", Boolean, nullable=False, default=False),
)

hq_users = Table(
    "hq_users",
    metadata,
    Column("id", ID, primary_key=True),
    Column("username", String(120), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("site_id", ID),  # NULL: every site
    Column("active", Boolean, nullable=False, default=True),
    # When the user was last disabled: device work they recorded before it still counts.
    Column("disabled_at", UtcDateTime),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("password_changed_at", UtcDateTime, nullable=False),
)

hq_user_roles = Table(
    "hq_user_roles",
    metadata,
    Column("user_id", ID, ForeignKey("hq_users.id"), primary_key=True),
    Column("role_code", String(64), ForeignKey("hq_roles.code"), primary_key=True),
)

hq_sessions = Table(
    "hq_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", ID, ForeignKey("hq_users.id"), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
    Column("client_address", String(64)),
)

enrollment_codes = Table(
    "enrollment_codes",
    metadata,
    Column("code_hash", String(64), primary_key=True),  # SHA-256 of the code; the code is shown once
    Column("site_id", ID, nullable=False),
    Column("role_code", String(64), ForeignKey("hq_roles.code"), nullable=False),
    Column("created_by", String(120), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime),
    Column("device_id", ID),  # the device it enrolled
)
