"""The wire protocol between devices and the server (see docs/protocol.md).

Messages are msgspec structs, MessagePack-encoded (``application/msgpack``); JSON is accepted
too (``application/json``) for tools and tests. Every request carries ``protocol_version`` and
``schema_version`` (in the body, or as query parameters for the live stream); a mismatch is
refused with ``sync.client_outdated`` (HTTP 426). Every response names the server's versions
in the ``Jcerp-Protocol-Version`` and ``Jcerp-Schema-Version`` headers.

Evolution rules: new fields only with defaults; never change a field's type; a breaking change
bumps ``PROTOCOL_VERSION``.

History:
- 1 (2026-11): enroll, push, pull, bootstrap (length-prefixed frames), live (SSE); checksum
  added later without a version change (a new endpoint: older devices never call it).
- 2 (2026-11): enrollment registers an Ed25519 public key and every later request is signed
  (``Jcerp-Signature``, protocol/signing.py); a version-1 device cannot sign, so it is told to
  update, and enrolls again. Sign-in of users on a shared device (``sign_in.py``,
  ``POST /sync/v1/sign-in``) is new in this version too: a new endpoint, no change to others.
"""

PROTOCOL_VERSION = 2
