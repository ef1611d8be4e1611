"""Server-only tables of the audit log (migration 0006): who did what, on which device, when,
from where. The server writes them (``server/audit``); devices never receive a row.

Invariants:
- Append-only. Rows are inserted, never updated or deleted; nothing in the code does either.
- ``seq`` counts from 1 without gaps, in the order the entries were written.
- Each row is chained to the one before it: ``prev_hash`` is the previous row's ``hash`` (64
  zeros for the first row), and ``hash`` is the SHA-256 of ``prev_hash`` and the row's canonical
  form (``server/audit/chain.py``). Changing, deleting or reordering a row breaks the chain there.
- ``audit_chain_head`` holds one row (``id`` 1): the last ``seq`` and ``hash``. A writer locks it
  (``FOR UPDATE`` on PostgreSQL; SQLite writes are serialized anyway) before it assigns the
  next ``seq``, so concurrent writers, in one process or several, chain one after the other.
  It is also what tells a truncated log (the last rows deleted) from a short one.
- ``detail_json`` is canonical JSON (sorted keys, no whitespace, non-ASCII as is), exactly the
  text the hash covers. Passwords, tokens and codes never go into it.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, String, Table, Text

from sync.schema import ID, metadata
from sync.types import UtcDateTime

HASH_LENGTH = 64  # hex SHA-256

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),  # assigned under the head's lock
    Column("at", UtcDateTime, nullable=False, index=True),
    # A stable dotted name: auth.login, admin.user_updated, mutation.applied, export.bootstrap...
    Column("action", String(64), nullable=False),
    Column("actor", String(120), index=True),  # the user name; NULL when no user acted (a device enrolling)
    Column("device_id", ID, index=True),  # the device it happened on or through
    Column("site_id", ID),
    Column("source", String(120)),  # where from: the client's address, or "device:<id>"
    Column("subject", String(200)),  # what it is about: a user id, "<device>:<seq>" of a mutation...
    Column("detail_json", Text, nullable=False),
    Column("prev_hash", String(HASH_LENGTH), nullable=False),
    Column("hash", String(HASH_LENGTH), nullable=False),
)

audit_chain_head = Table(
    "audit_chain_head",
    metadata,
    Column("id", Integer, primary_key=True),  # always 1
    Column("seq", BigInteger, nullable=False),  # the last entry's; 0 while the log is empty
    Column("hash", String(HASH_LENGTH), nullable=False),  # the last entry's; 64 zeros while empty
)
