"""Bootstrap framing (``protocol.bootstrap``): ``iter_frames`` reassembles length-prefixed
MessagePack frames from any chunking of the byte stream, and a stream that ends inside a
frame raises ``ConnectionError`` instead of being taken as complete."""

from __future__ import annotations

from typing import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.bootstrap import (
    FRAME_HEADER,
    BootstrapChunk,
    BootstrapDone,
    BootstrapPosition,
    BootstrapStart,
    encode_frame,
    iter_frames,
)

CELLS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.text(max_size=20),
)
CHUNKS = st.builds(
    lambda table, width, rows, version, index, after: BootstrapChunk(
        table=table,
        columns=[f"c{i}" for i in range(width)],
        rows=[row[:width] + [None] * (width - len(row[:width])) for row in rows],
        position=BootstrapPosition(snapshot_version=version, table_index=index, after_key=after),
    ),
    st.sampled_from(["sites", "items", "stock_moves", "库存"]),
    st.integers(min_value=1, max_value=4),
    st.lists(st.lists(CELLS, max_size=4), max_size=6),
    st.integers(min_value=0, max_value=2**40),
    st.integers(min_value=0, max_value=20),
    st.one_of(st.none(), st.lists(st.text(max_size=8), min_size=1, max_size=2)),
)
STREAMS = st.builds(
    lambda start, chunks, done: [start, *chunks, done],
    st.builds(
        BootstrapStart,
        snapshot_version=st.integers(min_value=0, max_value=2**40),
        estimated_rows=st.integers(min_value=0, max_value=10**6),
        tables=st.lists(st.text(max_size=10), max_size=4),
    ),
    st.lists(CHUNKS, max_size=5),
    st.builds(BootstrapDone, cursor=st.integers(min_value=0, max_value=2**40)),
)


def split(data: bytes, cuts: list[int]) -> Iterator[bytes]:
    points = sorted(cut % (len(data) + 1) for cut in cuts)
    start = 0
    for point in points:
        yield data[start:point]  # may be empty: an HTTP client can hand out empty chunks
        start = point
    yield data[start:]


@settings(max_examples=150, deadline=None)
@given(STREAMS, st.lists(st.integers(min_value=0, max_value=10**6), max_size=30))
def test_frames_survive_any_chunking(frames, cuts: list[int]) -> None:
    data = b"".join(encode_frame(frame) for frame in frames)
    pieces = list(split(data, cuts))
    assert b"".join(pieces) == data
    assert list(iter_frames(iter(pieces))) == frames


@settings(max_examples=50, deadline=None)
@given(STREAMS)
def test_one_byte_at_a_time(frames) -> None:
    data = b"".join(encode_frame(frame) for frame in frames)
    assert list(iter_frames(data[i : i + 1] for i in range(len(data)))) == frames


@settings(max_examples=100, deadline=None)
@given(STREAMS, st.data())
def test_a_stream_cut_inside_a_frame_raises(frames, data: st.DataObject) -> None:
    encoded = [encode_frame(frame) for frame in frames]
    stream = b"".join(encoded)
    boundaries = [0]
    for blob in encoded:
        boundaries.append(boundaries[-1] + len(blob))
    cut = data.draw(st.integers(min_value=0, max_value=len(stream) - 1))
    chunk_size = data.draw(st.integers(min_value=1, max_value=64))
    truncated = stream[:cut]
    pieces = (truncated[i : i + chunk_size] for i in range(0, len(truncated), chunk_size))
    received = []
    if cut in boundaries:
        received.extend(iter_frames(pieces))
        assert received == frames[: boundaries.index(cut)]
    else:
        with pytest.raises(ConnectionError):
            for frame in iter_frames(pieces):
                received.append(frame)
        # Every frame that was complete before the cut was still delivered.
        complete = max(index for index, boundary in enumerate(boundaries) if boundary < cut)
        assert received == frames[:complete]


def test_truncated_header_raises() -> None:
    frame = encode_frame(BootstrapDone(cursor=42))
    with pytest.raises(ConnectionError, match="inside a frame"):
        list(iter_frames(iter([frame[:2]])))


def test_truncated_body_raises_after_the_complete_frames() -> None:
    first = encode_frame(BootstrapStart(snapshot_version=7, estimated_rows=1, tables=["sites"]))
    second = encode_frame(BootstrapDone(cursor=7))
    frames = iter_frames(iter([first, second[:-1]]))
    assert next(frames) == BootstrapStart(snapshot_version=7, estimated_rows=1, tables=["sites"])
    with pytest.raises(ConnectionError):
        next(frames)


def test_empty_stream_has_no_frames() -> None:
    assert list(iter_frames(iter([]))) == []
    assert list(iter_frames(iter([b"", b""]))) == []


def test_frame_layout_is_a_big_endian_length_then_the_body() -> None:
    frame = encode_frame(BootstrapDone(cursor=1))
    (length,) = FRAME_HEADER.unpack_from(frame)
    assert FRAME_HEADER.size == 4
    assert length == len(frame) - 4
    assert frame[:4] == length.to_bytes(4, "big")
