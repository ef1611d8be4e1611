"""The base struct of every protocol message, and the codec helpers both sides use.

Messages are tagged (``type`` field) so a frame or a body says what it is; decoders are built
once per message type because building them is the expensive part.
"""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar

import msgspec

MSGPACK = "application/msgpack"
JSON = "application/json"

T = TypeVar("T")


class Message(msgspec.Struct, tag_field="type", kw_only=True):
    """Base of all protocol messages."""


# enc_hook=str: error details may carry values msgspec does not know (names, enums);
# their text is what a reader needs.
_msgpack_encoder = msgspec.msgpack.Encoder(decimal_format="string", enc_hook=str)
_json_encoder = msgspec.json.Encoder(decimal_format="string", enc_hook=str)


def encode(message: Any, media_type: str = MSGPACK) -> bytes:
    if media_type == JSON:
        return _json_encoder.encode(message)
    return _msgpack_encoder.encode(message)


@cache
def _decoder(message_type: Any, media_type: str) -> Any:
    if media_type == JSON:
        return msgspec.json.Decoder(message_type)
    return msgspec.msgpack.Decoder(message_type)


def decode(payload: bytes, message_type: type[T], media_type: str = MSGPACK) -> T:
    """Decode and validate; raises ``msgspec.DecodeError`` or ``msgspec.ValidationError``."""
    return _decoder(message_type, media_type).decode(payload)


def media_type_of(content_type: str | None) -> str:
    if content_type and content_type.split(";")[0].strip().lower() in (JSON, "text/json"):
        return JSON
    return MSGPACK
