"""Tables that exist only on the device: settings, the outbox, and the rebase journal.

- ``edge_meta``: key/value settings (device id, token, site, cursor, next sequence...).
- ``edge_outbox``: every mutation made here, in sequence order, until a pull shows the server
  processed it (applied or rejected). Never deleted any other way.
- ``edge_journal``: the first pre-image of each row touched by pending mutations, so a rebase
  can restore server state before applying a patch. One entry per row.
- ``edge_user_verifiers``: the users who signed in here online, each with a verifier of their
  password so they can sign in again offline (``edge_client/sign_in.py``). Never sent anywhere.
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

edge_user_verifiers = Table(
    "edge_user_verifiers",
    local_metadata,
    Column("username", String(120), primary_key=True),
    Column("user_id", String(36), nullable=False),
    Column("display_name", Text, nullable=False),
    Column("site_id", String(36)),  # NULL: the user works at every site
    Column("roles_json", Text, nullable=False),  # JSON list of role codes, for display
    Column("grants_json", Text, nullable=False),  # JSON list of grants as HQ stores them
    # scrypt of the password with its own salt (erp/access/passwords.py); never HQ's hash.
    Column("verifier", Text, nullable=False),
    Column("cached_at", String(40), nullable=False),  # last online sign-in, UTC ISO 8601
    Column("valid_until", String(40), nullable=False),  # no offline sign-in after this
    Column("failed_attempts", Integer, nullable=False, default=0),  # wrong passwords offline, in a row
    Column("locked_until", String(40)),  # offline sign-in refused until then
)
