"""Access: users, roles, permissions, sign-in sessions and device enrollment codes.

Depends on ``org`` (a user may be limited to one site). Its tables live on the server only
(``tables``); the permission catalog and the built-in roles (``permissions``) and password
hashing (``passwords``) are plain rules the server applies and a device can apply too.
Sign-in, tokens and the HTTP guard are the server's (``server/auth``).
"""

from erp.access.tables import enrollment_codes, hq_roles, hq_sessions, hq_user_roles, hq_users
from sync.registry import ModuleManifest

MODULE = ModuleManifest(
    name="access",
    description="Users, roles, permissions and sign-in sessions of headquarters.",
    depends=("org",),
    # Password hashes and session digests never leave the server.
    server_only_tables=(hq_roles.name, hq_users.name, hq_user_roles.name, hq_sessions.name, enrollment_codes.name),
)
