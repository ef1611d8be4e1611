"""Tables that exist only on the device: settings, the outbox, and the rebase journal.

- ``edge_meta``: key/value settings (device id, token, site, cursor, next sequence...).
- ``edge_outbox``: every mutation made here, in sequence order, until a pull shows the server
  processed it (applied or rejected). Never deleted any other way.
- ``edge_journal``: the first pre-image of each row touched by pending mutations, so a rebase
  can restore server state before applying a patch. One entry per row.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, LargeBinary, MetaData, String, Table, Text, UniqueConstraint

local_metadata = MetaData()

edge_meta = Table(
    "edge_meta",
    local_metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text),
)

edge_outbox = Table(
    "edge_outbox",
    local_metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("name", String(120), nullable=False),
    Column("version", Integer, nullable=False),
    Column("args", LargeBinary, nullable=False),  # MessagePack, sent as is
    Column("hlc", String(64), nullable=False),
    Column("user_name", String(120)),
    Column("created_at", String(40), nullable=False),
    Column("pushed", Integer, nullable=False, default=0),  # 1 once a push carried it
    Column("local_error", Text),  # why re-running it locally failed at the last rebase
)

edge_journal = Table(
    "edge_journal",
    local_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("table_name", String(120), nullable=False),
    Column("row_key", LargeBinary, nullable=False),
    Column("before", LargeBinary),  # MessagePack row values; NULL: the row did not exist
    UniqueConstraint("table_name", "row_key"),
)
