"""Bootstrap: a new device downloads its scope's snapshot as a stream of frames.

The response body is a sequence of frames, each a 4-byte big-endian length followed by one
MessagePack-encoded ``BootstrapFrame``. Every chunk carries the position after it; a device that
loses the connection asks again with ``resume`` set to the last position it committed. When the
stream ends with ``BootstrapDone``, the device pulls from its ``cursor`` to catch up with the
changes committed while it downloaded.
"""

from __future__ import annotations

import struct
from typing import Any, Iterator

import msgspec

from protocol.base import Message

FRAME_HEADER = struct.Struct(">I")


class BootstrapPosition(msgspec.Struct, kw_only=True):
    snapshot_version: int  # the pull cursor to continue from when done
    table_index: int  # index into the server's ordered list of tables in scope
    after_key: list[Any] | None = None  # last primary key sent in that table


class BootstrapRequest(Message, tag="bootstrap"):
    protocol_version: int
    schema_version: int
    device_id: str
    resume: BootstrapPosition | None = None
    chunk_rows: int = 20000


class BootstrapStart(Message, tag="start"):
    snapshot_version: int
    estimated_rows: int
    tables: list[str]


class BootstrapChunk(Message, tag="chunk"):
    table: str
    columns: list[str]
    rows: list[list[Any]]
    position: BootstrapPosition


class BootstrapDone(Message, tag="done"):
    cursor: int


BootstrapFrame = BootstrapStart | BootstrapChunk | BootstrapDone

_frame_decoder = msgspec.msgpack.Decoder(BootstrapFrame)
_frame_encoder = msgspec.msgpack.Encoder(decimal_format="string")


def encode_frame(frame: BootstrapStart | BootstrapChunk | BootstrapDone) -> bytes:
    body = _frame_encoder.encode(frame)
    return FRAME_HEADER.pack(len(body)) + body


def iter_frames(chunks: Iterator[bytes]) -> Iterator[BootstrapStart | BootstrapChunk | BootstrapDone]:
    """Reassemble frames from an HTTP byte stream of arbitrary chunking."""
    buffer = bytearray()
    for chunk in chunks:
        buffer.extend(chunk)
        while len(buffer) >= FRAME_HEADER.size:
            (length,) = FRAME_HEADER.unpack_from(buffer)
            if len(buffer) < FRAME_HEADER.size + length:
                break
            body = bytes(buffer[FRAME_HEADER.size : FRAME_HEADER.size + length])
            del buffer[: FRAME_HEADER.size + length]
            yield _frame_decoder.decode(body)
    if buffer:
        raise ConnectionError("bootstrap stream ended inside a frame")
