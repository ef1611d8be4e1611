"""Signed sync requests: the bytes a device signs with its Ed25519 key, and the header that carries it.

Every sync request after enrollment carries the device's bearer token (who it claims to be)
and ``Jcerp-Signature: t=<unix seconds>, n=<nonce>, s=<signature>``, an Ed25519 signature by
the key the device registered at enrollment over:

    jcerp-sync-v2 \\n METHOD \\n /path?query \\n t \\n n \\n sha256(body) in hex

Invariants:
- The signature covers the method, the path with its query, the time, the nonce and the whole
  body, so changing any of them (a tampered request) breaks it.
- The server accepts a timestamp within ``MAX_CLOCK_SKEW_SECONDS`` of its own clock and each
  nonce once per device within that window, so a replayed request is refused; outside the
  window the timestamp alone refuses it.
- The private key never leaves the device; the server holds the public key only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

SIGNATURE_HEADER = "jcerp-signature"
MAX_CLOCK_SKEW_SECONDS = 300
NONCE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_DOMAIN = b"jcerp-sync-v2"
_HEADER = re.compile(r"^\s*t=(\d{1,12}),\s*n=([A-Za-z0-9_-]{16,64}),\s*s=([A-Za-z0-9_-]{86}={0,2})\s*$")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class RequestSignature:
    timestamp: int
    nonce: str
    signature: bytes


def signed_bytes(method: str, target: str, timestamp: int, nonce: str, body: bytes) -> bytes:
    """What is signed. ``target`` is the path with its query string as sent (``/sync/v1/live?a=1``)."""
    return b"\n".join((_DOMAIN, method.upper().encode("ascii"), target.encode("utf-8"), str(timestamp).encode("ascii"),
                       nonce.encode("ascii"), hashlib.sha256(body).hexdigest().encode("ascii")))


def sign_request(key: Ed25519PrivateKey, method: str, target: str, timestamp: int, nonce: str, body: bytes) -> str:
    """The ``Jcerp-Signature`` header value for one request."""
    signature = key.sign(signed_bytes(method, target, timestamp, nonce, body))
    return f"t={timestamp}, n={nonce}, s={_b64(signature)}"


def parse_signature(header: str | None) -> RequestSignature | None:
    """The parts of a ``Jcerp-Signature`` header, or None when it is missing or malformed."""
    match = _HEADER.match(header or "")
    if match is None:
        return None
    try:
        signature = _unb64(match.group(3))
    except (binascii.Error, ValueError):
        return None
    if len(signature) != 64:
        return None
    return RequestSignature(int(match.group(1)), match.group(2), signature)


def signature_valid(public_key: Ed25519PublicKey, parts: RequestSignature, method: str, target: str,
                    body: bytes) -> bool:
    try:
        public_key.verify(parts.signature, signed_bytes(method, target, parts.timestamp, parts.nonce, body))
    except InvalidSignature:
        return False
    return True


def public_key_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The raw 32-byte public key, base64url without padding: what enrollment sends."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return _b64(public.public_bytes(Encoding.Raw, PublicFormat.Raw))


def load_public_key(text: str) -> Ed25519PublicKey:
    """Raises ValueError for anything but a base64url Ed25519 public key."""
    try:
        raw = _unb64(text)
    except (binascii.Error, ValueError):
        raise ValueError("the public key is not base64url") from None
    if len(raw) != 32 or _b64(raw) != text:
        raise ValueError("an Ed25519 public key is 32 bytes, base64url without padding")
    return Ed25519PublicKey.from_public_bytes(raw)
