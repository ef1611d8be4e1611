"""SQLite engines configured the one way both tiers rely on.

Invariants: the driver never opens transactions on its own (``isolation_level = None``), so
``BEGIN``, ``SAVEPOINT`` and read snapshots mean what they say; each transaction starts with the
given ``begin`` statement (``BEGIN IMMEDIATE`` for writers, so two writers queue instead of
failing at commit; ``BEGIN`` for snapshot readers); WAL lets readers run beside the writer.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url


def sqlite_engine(url: str | URL, begin: str = "BEGIN IMMEDIATE", *, any_thread: bool = False) -> Engine:
    """A synchronous pysqlite engine on the file ``url`` names (any sqlite driver name).

    ``any_thread``: connections may be used by whichever worker thread runs a transaction (one
    at a time), as the server does.
    """
    sync_url = make_url(url).set(drivername="sqlite+pysqlite")
    engine = create_engine(sync_url, connect_args={"check_same_thread": False} if any_thread else {})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql(begin)

    return engine
