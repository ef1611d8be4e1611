"""Access: users, roles, permissions, sign-in sessions, device enrollment codes and the audit log.

Depends on ``org`` (a user may be limited to one site). Its tables live on the server only
(``tables``, and ``audit_log``: the hash-chained record of who did what, written by
``server/audit``); the permission catalog and the built-in roles (``permissions``) and password
hashing (``passwords``) are plain rules the server applies and a device can apply too.
Sign-in, tokens and the HTTP guard are the server's (``server/auth``).
"""

from erp.access.audit_log import audit_chain_head, audit_log
from erp.access.tables import enrollment_codes, hq_roles, hq_sessions, hq_user_roles, hq_users
from sync.registry import ModuleManifest

MODULE = ModuleManifest(
    name="access",
    description="Users, roles, permissions and sign-in sessions of headquarters.",
    depends=("org",),
    # Password hashes and session digests never leave the server.
    server_only_tables=(hq_roles.name, hq_users.name, hq_user_roles.name, hq_sessions.name, enrollment_codes.name,
                        # The audit log is HQ's record; a device neither reads nor writes it.
                        audit_log.name, audit_chain_head.name),
)
