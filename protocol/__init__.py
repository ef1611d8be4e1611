"""The wire protocol between devices and the server (see docs/protocol.md).

Messages are msgspec structs, MessagePack-encoded (``application/msgpack``); JSON is accepted
too (``application/json``) for tools and tests. Every request carries ``protocol_version`` and
``schema_version``; a mismatch is refused with ``sync.client_outdated`` (HTTP 426).

Evolution rules: new fields only with defaults; never change a field's type; a breaking change
bumps ``PROTOCOL_VERSION``.

History:
- 1 (2026-11): enroll, push, pull, bootstrap (length-prefixed frames), live (SSE).
"""

PROTOCOL_VERSION = 1
