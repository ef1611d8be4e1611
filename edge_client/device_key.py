"""The device's Ed25519 signing key, and the httpx auth that signs every sync request with it.

Invariants:
- The key is made once, before the first enrollment request, and kept in ``device_key.pem``
  in the device home, readable by its owner only (0600). An enrollment whose answer was lost
  is asked again with the same key.
- Every request is signed afresh, with a new nonce and the current time, so a retry is a new
  request to the server and never looks like a replay.
- The device's clock may be off (tablets offline for days): the offset learned from the
  server's ``sync.clock_skew`` answer is added to the time it signs with.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Generator

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding, NoEncryption, PrivateFormat, load_pem_private_key,
)

from protocol.signing import SIGNATURE_HEADER, public_key_text, sign_request

KEY_FILE = "device_key.pem"


def load_device_key(home: Path | str) -> Ed25519PrivateKey | None:
    path = Path(home) / KEY_FILE
    if not path.exists():
        return None
    key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 key")
    return key


def ensure_device_key(home: Path | str) -> Ed25519PrivateKey:
    """The device's key, made now if the home has none yet."""
    existing = load_device_key(home)
    if existing is not None:
        return existing
    key = Ed25519PrivateKey.generate()
    path = Path(home) / KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    # Created with owner-only permissions from the first byte, never widened afterwards.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
    return key


class DeviceSignature(httpx.Auth):
    """Adds ``Jcerp-Signature`` to each request (works for httpx.Client and AsyncClient)."""

    requires_request_body = True

    def __init__(self, key: Ed25519PrivateKey, *, token: str | None = None) -> None:
        self.key = key
        self.token = token  # also sends the bearer token, for requests built by hand (tests, benchmarks)
        self.clock_offset = 0  # seconds to add to this device's clock, learned from the server

    @property
    def public_key(self) -> str:
        return public_key_text(self.key)

    def headers_for(self, method: str, target: str, body: bytes) -> dict[str, str]:
        """The signature header for a request built by hand (tests, benchmarks)."""
        timestamp = int(time.time()) + self.clock_offset
        return {SIGNATURE_HEADER: sign_request(self.key, method, target, timestamp, secrets.token_urlsafe(16), body)}

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.token is not None:
            request.headers["authorization"] = f"Bearer {self.token}"
        request.headers.update(self.headers_for(request.method, request.url.raw_path.decode("latin-1"),
                                                request.content))
        yield request
