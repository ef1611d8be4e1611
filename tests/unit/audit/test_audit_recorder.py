"""The audit recorder (``server.audit.recorder``) on a bare SQLite database: calls chain onto
each other through the head, a batch is one insert, text is made storable before it is hashed,
and nothing is written without the head."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, delete, event, insert, select

from erp.access.audit_log import audit_chain_head, audit_log
from server.audit.chain import GENESIS, Entry, check
from server.audit.queries import list_entries, verify_chain
from server.audit.recorder import AuditHeadMissing, Event, record, record_many


@pytest.fixture
def engine():
    engine = create_engine("sqlite://")
    with engine.begin() as conn:
        audit_log.metadata.create_all(conn, tables=[audit_log, audit_chain_head])
        conn.execute(insert(audit_chain_head).values(id=1, seq=0, hash=GENESIS))
    yield engine
    engine.dispose()


def stored(conn) -> list[Entry]:
    return [Entry(r.seq, r.at, r.action, r.actor, r.device_id, r.site_id, r.source, r.subject, r.detail_json,
                  r.prev_hash, r.hash) for r in conn.execute(select(audit_log).order_by(audit_log.c.seq))]


def test_calls_chain_onto_each_other_and_move_the_head(engine) -> None:
    with engine.begin() as conn:
        first = record(conn, action="auth.login", actor="王𠮷", source="10.0.0.7", subject="u-1",
                       detail={"roles": ["hq_admin"]})
    with engine.begin() as conn:
        batch = record_many(conn, [Event("mutation.applied", "王𠮷", "d-1", "s-1", "device:d-1", f"d-1:{n}",
                                         {"seq": n}) for n in range(1, 4)])
    assert first.seq == 1 and first.prev_hash == GENESIS
    assert [e.seq for e in batch] == [2, 3, 4] and batch[0].prev_hash == first.hash
    with engine.begin() as conn:
        head = conn.execute(select(audit_chain_head)).one()
        assert (head.seq, head.hash) == (4, batch[-1].hash)
        assert stored(conn) == [first, *batch]
        assert check(stored(conn), head=(head.seq, head.hash)).ok
        assert verify_chain(conn, page=2).ok  # pages of two: the walk crosses page ends
        assert [e.seq for e in list_entries(conn, action="mutation.*", limit=2).items] == [2, 3]


def test_a_batch_is_one_insert_statement(engine) -> None:
    statements: list[str] = []
    with engine.begin() as conn:
        event.listen(conn, "before_cursor_execute", lambda *args: statements.append(args[2].split()[0]))
        record_many(conn, [Event("mutation.applied", subject=str(n)) for n in range(1000)])
    assert statements == ["SELECT", "INSERT", "UPDATE"]


def test_nothing_to_record_writes_nothing(engine) -> None:
    with engine.begin() as conn:
        assert record_many(conn, []) == []
        assert conn.execute(select(audit_chain_head.c.seq)).scalar_one() == 0


def test_text_is_made_storable_before_it_is_hashed(engine) -> None:
    with engine.begin() as conn:
        entry = record(conn, action="auth.login_failed", actor="gh\x00ost" + "𠮷" * 200, source="\x00x",
                       detail={"typed": "a\x00b", "lone": "\ud800"})
        assert entry.actor == ("ghost" + "𠮷" * 200)[:120] and entry.source == "x"
        assert "\x00" not in entry.detail_json and "\\u0000" in entry.detail_json
        assert entry.detail_json.encode("utf-8")  # the lone surrogate was replaced
        assert stored(conn) == [entry]
        assert verify_chain(conn).ok


def test_nothing_is_recorded_without_the_head(engine) -> None:
    with engine.begin() as conn:
        conn.execute(delete(audit_chain_head))
    with engine.begin() as conn, pytest.raises(AuditHeadMissing):
        record(conn, action="auth.login")
    with engine.begin() as conn:
        assert stored(conn) == []
        result = verify_chain(conn)
        assert not result.ok and result.first_broken_seq == 1
