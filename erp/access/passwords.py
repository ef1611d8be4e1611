"""Password hashes: scrypt (RFC 7914) from the standard library, verified in constant time.

Invariants:
- A stored hash names its algorithm and parameters (``scrypt$n$r$p$salt$hash``, base64 parts),
  so parameters can be raised later without invalidating existing passwords.
- A fresh 16-byte salt per hash; a 32-byte derived key.
- Verification takes the same path for a wrong password, a malformed hash and an unknown user
  (see ``DUMMY_HASH``), so timing does not tell which one it was.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# About 50 ms per hash on a 2-core server: costly to guess, cheap enough to sign in.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MIN_LENGTH = 8


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        algorithm, n, r, p, salt, key = stored.split("$")
        if algorithm != "scrypt":
            return False
        expected = base64.b64decode(key)
        derived = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                                 dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(derived, expected)


# Verified against when the user does not exist, so that case costs as much as a wrong password.
DUMMY_HASH = hash_password(secrets.token_hex(16))


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable, or None."""
    if len(password) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters"
    if "\x00" in password:
        return "a password cannot contain U+0000"
    return None
