"""Personal data at rest on a device: AES-GCM under the device's data key.

A column declared with ``personal_column`` behaves like its inner type everywhere, except on an
engine whose dialect carries a ``FieldCipher`` (``attach_cipher``; the edge replica does it
when it opens). There each value is encrypted when written and decrypted when read, so the
replica file never holds the plaintext while every reader (handlers, lookups, the checksum)
sees plain values. Server engines carry no cipher: the server stores plaintext, protected by
its own access rules and by field masking on the way out.

Stored form: ``enc1:`` + base64(nonce ‖ ciphertext ‖ tag), with a fresh random 12-byte nonce
per value and ``"<table>.<column>"`` as associated data, so a value copied into another column
or another table fails to decrypt instead of being read as that column's value.

Invariants:
- The value encrypted is the inner type's storage text (a decimal's canonical text, a string
  as is), so decrypting gives exactly what the column would have held unencrypted.
- On an engine with a cipher a stored personal value is always ciphertext: reading a value
  that is not, or that fails authentication (wrong key, moved, altered), raises
  ``PersonalDataUnreadable``; it is never passed on as if it were the plaintext.
- Paths that write wire values without SQLAlchemy's type processing (the edge's bulk
  ``replace_rows``) encrypt with ``encrypt_row_values``; paths that copy stored values as they
  are (the rebase journal) copy ciphertext and must not encrypt again.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path
from typing import Any, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Column, String, Table
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator, TypeEngine, to_instance

from sync.errors import JcerpError

PREFIX = "enc1:"
NONCE_BYTES = 12
KEY_BYTES = 32
_DIALECT_ATTRIBUTE = "jcerp_field_cipher"


class PersonalDataUnreadable(JcerpError):
    """A stored personal value that does not decrypt: another device's key, a value moved from
    another column, or an altered or unencrypted value."""

    code = "edge.personal_data_unreadable"
    http_status = 500


class FieldCipher:
    """AES-256-GCM over single column values, bound to their ``table.column``."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"a device data key has {KEY_BYTES} bytes, not {len(key)}")
        self._aead = AESGCM(key)

    def encrypt(self, text: str, where: str) -> str:
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, text.encode("utf-8"), where.encode("utf-8"))
        return PREFIX + base64.b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, stored: str, where: str) -> str:
        if not isinstance(stored, str) or not stored.startswith(PREFIX):
            raise PersonalDataUnreadable(f"{where} holds a value that is not encrypted", field=where)
        try:
            raw = base64.b64decode(stored[len(PREFIX):], validate=True)
            if len(raw) < NONCE_BYTES + 16:
                raise ValueError("too short")
            plain = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], where.encode("utf-8"))
        except (InvalidTag, ValueError, binascii.Error):
            raise PersonalDataUnreadable(
                f"{where} does not decrypt with this device's key (another key, another column's value, "
                "or altered)", field=where) from None
        return plain.decode("utf-8")


    def encrypt_bytes(self, data: bytes, where: str) -> bytes:
        """A blob sealed like a value: ``enc1:`` ‖ nonce ‖ ciphertext ‖ tag, bound to ``where``."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        return PREFIX.encode("ascii") + nonce + self._aead.encrypt(nonce, data, where.encode("utf-8"))

    def decrypt_bytes(self, sealed: bytes, where: str) -> bytes:
        raw = bytes(sealed)[len(PREFIX):]
        try:
            return self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], where.encode("utf-8"))
        except (InvalidTag, ValueError):
            raise PersonalDataUnreadable(f"{where} does not decrypt with this device's key", field=where) from None


def is_sealed_blob(data: bytes) -> bool:
    """True for a blob from ``encrypt_bytes`` (a MessagePack document never starts this way)."""
    return bytes(data[:len(PREFIX)]) == PREFIX.encode("ascii")


def load_or_create_key(path: Path) -> bytes:
    """The 256-bit data key in ``path``, created (mode 0600, never overwritten) if missing."""
    path = Path(path)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(base64.b64encode(secrets.token_bytes(KEY_BYTES)) + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
    key = base64.b64decode(path.read_bytes().strip(), validate=True)
    if len(key) != KEY_BYTES:
        raise PersonalDataUnreadable(f"{path} is not a device data key", code="edge.bad_data_key")
    return key


def attach_cipher(engine: Engine, cipher: FieldCipher | None) -> None:
    """Make ``engine`` encrypt personal columns with ``cipher`` (None: store plaintext)."""
    setattr(engine.dialect, _DIALECT_ATTRIBUTE, cipher)


def cipher_of(dialect: Any) -> FieldCipher | None:
    return getattr(dialect, _DIALECT_ATTRIBUTE, None)


class PersonalData(TypeDecorator[Any]):
    """A personal column: ``inner``'s values, encrypted where the engine carries a cipher.

    ``where`` (``"table.column"``) is the associated data that binds each value to its column.
    """

    impl = String
    cache_ok = True

    def __init__(self, inner: TypeEngine[Any] | type[TypeEngine[Any]], where: str) -> None:
        super().__init__()
        self.inner = to_instance(inner)
        self.where = where

    def load_dialect_impl(self, dialect: Any) -> Any:
        if isinstance(self.inner, TypeDecorator):
            return self.inner.load_dialect_impl(dialect)
        return dialect.type_descriptor(self.inner)

    @property
    def python_type(self) -> type:
        return self.inner.python_type

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if isinstance(self.inner, TypeDecorator):
            value = self.inner.process_bind_param(value, dialect)
        cipher = cipher_of(dialect)
        if value is None or cipher is None:
            return value
        return cipher.encrypt(str(value), self.where)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        cipher = cipher_of(dialect)
        if value is not None and cipher is not None:
            value = cipher.decrypt(value, self.where)
        if isinstance(self.inner, TypeDecorator):
            value = self.inner.process_result_value(value, dialect)
        return value


def personal_column(table: str, name: str, inner: TypeEngine[Any], *args: Any, **kwargs: Any) -> Column:
    """A column holding personal data of ``table``; declare it in the spec's ``personal_fields`` too."""
    return Column(name, PersonalData(inner, f"{table}.{name}"), *args, **kwargs)


def personal_positions(table: Table, columns: Sequence[str]) -> list[tuple[int, str]]:
    """(index in ``columns``, ``table.column``) of the personal columns among ``columns``."""
    found = []
    for index, name in enumerate(columns):
        column = table.c.get(name)
        if column is not None and isinstance(column.type, PersonalData):
            found.append((index, column.type.where))
    return found


def encrypt_row_values(cipher: FieldCipher, positions: list[tuple[int, str]],
                       rows: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """Rows of wire values (storage text) with their personal values encrypted."""
    sealed = []
    for row in rows:
        values = list(row)
        for index, where in positions:
            if values[index] is not None:
                values[index] = cipher.encrypt(str(values[index]), where)
        sealed.append(values)
    return sealed
