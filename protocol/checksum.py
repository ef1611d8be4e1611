"""Checksum: the server's fingerprint of a device's scope, to verify a replica against.

A device with nothing pending that has pulled up to ``version`` must hold rows whose per-table
fingerprints (``sync/checksum.py``) equal these. The request names the device, which must be the
token's device; the answer is read in one snapshot.
"""

from __future__ import annotations

import msgspec

from protocol.base import Message


class ChecksumRequest(Message, tag="checksum"):
    protocol_version: int
    schema_version: int
    device_id: str


class TableFingerprint(msgspec.Struct):
    rows: int
    digest: str  # 16 hex digits: the sum of 64-bit row hashes modulo 2**64


class ChecksumResponse(Message, tag="checksum_result"):
    version: int  # the server clock the fingerprints were read at
    tables: dict[str, TableFingerprint]
