"""The one SQLAlchemy ``MetaData`` every module's tables join, and the engine's own tables.

Server-only tables (never replicated):
- ``sync_clock``: one row holding the server change sequence. A push transaction advances it
  first and holds its row lock until commit, so versions commit in order and a pull that
  reads the clock in its snapshot can never miss a row committed later with a lower version.
- ``sync_devices``: enrolled devices, their site and the last applied mutation sequence.
- ``sync_mutation_log``: one row per processed (device, seq): the proof of exactly-once and the
  outcome returned to a repeated push.
- ``sync_tombstones``: deletes, delivered to devices as key lists on pull.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from sync.types import UtcDateTime

NAMING = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

ID = String(36)

sync_clock = Table(
    "sync_clock",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", BigInteger, nullable=False),
)

sync_devices = Table(
    "sync_devices",
    metadata,
    Column("id", ID, primary_key=True),
    Column("site_id", ID, nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("last_applied_seq", BigInteger, nullable=False, default=0),
    Column("enrolled_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime),
    Column("revoked_at", UtcDateTime),
    # The role the device was enrolled with (an enrollment code's): what any mutation it pushes
    # may do at most, whoever is signed in on it.
    Column("role_code", String(64), nullable=False, server_default="warehouse_clerk"),
    # The Ed25519 public key the device registered at enrollment (base64url): every sync
    # request after enrollment is signed with its private key (protocol/signing.py).
    Column("public_key", String(64)),
)

# Nonces of signed sync requests seen within the clock-skew window: a repeat is a replay.
sync_request_nonces = Table(
    "sync_request_nonces",
    metadata,
    Column("device_id", ID, primary_key=True),
    Column("nonce", String(64), primary_key=True),
    Column("seen_at", UtcDateTime, nullable=False, index=True),
)

sync_mutation_log = Table(
    "sync_mutation_log",
    metadata,
    Column("device_id", ID, primary_key=True),
    Column("seq", BigInteger, primary_key=True),
    Column("mutation", String(120), nullable=False),
    Column("status", String(16), nullable=False),  # applied | rejected
    Column("code", String(120)),
    Column("hlc", String(64), nullable=False),
    Column("user_name", String(120)),
    Column("commit_version", BigInteger, nullable=False),
    Column("processed_at", UtcDateTime, nullable=False),
)

sync_tombstones = Table(
    "sync_tombstones",
    metadata,
    Column("table_name", String(120), primary_key=True),
    Column("row_key", Text, primary_key=True),  # JSON list of key values
    Column("scope_value", String(36), index=True),  # site or device; NULL for shared tables
    Column("_version", BigInteger, nullable=False, index=True),
)

SERVER_ONLY_TABLES = ("sync_clock", "sync_devices", "sync_mutation_log", "sync_tombstones", "sync_request_nonces")

# Bumped with every migration that changes a replicated table; devices must match it exactly.
# 1: sites, units, items, warehouses, locations, stock moves, on-hand, inventory exceptions, inbox.
# 2: released together (migrations 0007-0010): hr_employees, with personal fields a device
#    stores encrypted; manufacturing (calendars, standard costs, BOMs, work centres, routings,
#    work orders and their lines, operation reports, work-order exceptions); purchasing
#    (suppliers, purchase orders and lines, receipts, purchasing exceptions); sales and service.
# 3: released together (migrations 0011-0017): lots, serial numbers and unit cost on stock moves,
#    item tracking and valuation method; inventory depth (lots, serials, bins, cycle counts,
#    reorder points); stock valuation; quality; planning; per-site number series.
SCHEMA_VERSION = 3
