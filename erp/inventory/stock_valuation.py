"""Stock valuation kept on the server: what each item's stock at each site is worth, by its method.

Server-only derived state (no SyncSpec; devices do not value stock). ``value_move`` runs from
``stock_move.post_move`` for every appended move, in the same transaction, on the server side
only, and writes with ``ctx.conn`` directly. ``rebuild_valuation`` recomputes the same tables from
the ledger in one streaming pass, for repair and for the benchmark. Both apply the calculators of
``valuation``, so they cannot disagree on a rule.

Invariants:
- ``item_costs`` has one row per (site, item) that has moves; its ``quantity`` is the sum of the
  item's valued moves at the site, and its ``value`` the exact sum of the amounts booked.
- FIFO items: the rows of ``fifo_layers`` of (site, item) sum to its ``item_costs`` quantity and
  value while that quantity is positive; there are none otherwise.
- Month-end weighted items: ``valuation_months`` holds each month's opening and totals; the rate
  and closing are derived from them (``valuation.close_month``), and a month's opening is the
  previous month's closing. ``item_costs`` shows the latest month's (provisional) closing.

Ordering rule: moves are valued in the order the server applies them, not by ``occurred_at``. A
move pushed late from a device that was offline is valued when it arrives, at the cost in force
then. Revaluing earlier moves would repost every later outgoing move of the item (a reposting
storm on each late push); booking forward keeps every write O(1) per move and keeps the books of
past moves stable. Month-end weighted average is insensitive to order within a month; a late
move is booked into its own month unless the item already has a later month, in which case it
goes into the latest one (a month is never reopened once a later one exists). The rebuild
reads the ledger in commit order (``_version``, then move id): it matches the incremental path
except when one mutation both takes out and brings in the same item at one site.

Transfer legs are not valued: the transfer mutation moves goods between two locations of one
site, so the pair leaves the site's quantity and value unchanged. An item's method is fixed when
the item is created, so the whole history of an item is valued by one method.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger, Column, Connection, Index, String, Table, bindparam, delete, insert, select, update,
)

from erp.inventory.item import items
from erp.inventory.valuation import (
    Layer, MonthTotals, Move, Position, add_to_month, apply_fifo, apply_moving_average, close_month,
)
from sync.context import MutationContext, Side
from sync.schema import ID, metadata
from sync.types import DecimalType

UNVALUED_KINDS = ("transfer_out", "transfer_in")
SERVER_ONLY = ("item_costs", "fifo_layers", "valuation_months")

item_costs = Table(
    "item_costs",
    metadata,
    Column("site_id", ID, primary_key=True),
    Column("item_id", ID, primary_key=True),
    Column("method", String(16), nullable=False),  # the item's valuation method
    Column("quantity", DecimalType, nullable=False),
    Column("value", DecimalType, nullable=False),  # to the cent; negative while stock is
    # the average when quantity > 0, else the last known cost; monthly: the latest month's rate
    Column("unit_cost", DecimalType, nullable=False),
    Column("month", String(7)),  # monthly_weighted: the latest month booked (YYYY-MM)
    Column("last_version", BigInteger, nullable=False),  # commit version of the last valued move
)

fifo_layers = Table(
    "fifo_layers",
    metadata,
    Column("site_id", ID, primary_key=True),
    Column("item_id", ID, primary_key=True),
    Column("source_move_id", ID, primary_key=True),  # the incoming move the layer remains of
    Column("position", BigInteger, nullable=False),  # the source's commit version: oldest first
    Column("quantity", DecimalType, nullable=False),  # remaining, > 0
    Column("value", DecimalType, nullable=False),  # remaining value, to the cent
    Column("unit_cost", DecimalType, nullable=False),
    Index("ix_fifo_layers_order", "site_id", "item_id", "position", "source_move_id"),
)

valuation_months = Table(
    "valuation_months",
    metadata,
    Column("site_id", ID, primary_key=True),
    Column("item_id", ID, primary_key=True),
    Column("month", String(7), primary_key=True),  # YYYY-MM, UTC
    Column("opening_quantity", DecimalType, nullable=False),
    Column("opening_value", DecimalType, nullable=False),
    Column("opening_unit_cost", DecimalType, nullable=False),  # the rate in force before the month
    Column("incoming_quantity", DecimalType, nullable=False),  # moves with a unit cost, net
    Column("incoming_value", DecimalType, nullable=False),
    Column("outgoing_quantity", DecimalType, nullable=False),  # all other moves, net of returns
)


def month_of(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


class Book:
    """One (site, item) position being valued: loaded, moved in memory, written back."""

    def __init__(self, site_id: str, item_id: str, method: str, position: Position, month: str | None,
                 totals: MonthTotals | None = None, opening: Position | None = None) -> None:
        self.site_id, self.item_id, self.method = site_id, item_id, method
        self.position, self.month = position, month
        self.totals, self.opening = totals, opening
        self.positions: dict[str, int] = {}  # FIFO layer -> commit version of its source
        self.closed_months: list[dict[str, Any]] = []  # months the rebuild has finished

    def apply(self, move: Move, version: int, occurred_at: datetime) -> None:
        if self.method == "fifo":
            self.position, _ = apply_fifo(self.position, move)
            if move.quantity > 0:
                self.positions[move.move_id] = version
        elif self.method == "monthly_weighted":
            self._book_month(move, month_of(occurred_at))
        else:
            self.position, _ = apply_moving_average(self.position, move)

    def _book_month(self, move: Move, month: str) -> None:
        if self.month is None or month > self.month:
            # A new month opens at the previous one's closing (a month is never reopened).
            if self.month is not None:
                self.closed_months.append(self.month_row())
            self.opening = self.position if self.month is None else close_month(self.opening, self.totals).closing
            self.month, self.totals = month, MonthTotals()
        self.totals = add_to_month(self.totals, move)
        self.position = close_month(self.opening, self.totals).closing

    def month_row(self) -> dict[str, Any]:
        assert self.opening is not None and self.totals is not None and self.month is not None
        return {
            "site_id": self.site_id, "item_id": self.item_id, "month": self.month,
            "opening_quantity": self.opening.quantity, "opening_value": self.opening.value,
            "opening_unit_cost": self.opening.unit_cost,
            "incoming_quantity": self.totals.incoming_quantity, "incoming_value": self.totals.incoming_value,
            "outgoing_quantity": self.totals.outgoing_quantity,
        }

    def cost_row(self, version: int) -> dict[str, Any]:
        return {
            "site_id": self.site_id, "item_id": self.item_id, "method": self.method,
            "quantity": self.position.quantity, "value": self.position.value,
            "unit_cost": self.position.unit_cost, "month": self.month, "last_version": version,
        }

    def layer_rows(self) -> list[dict[str, Any]]:
        return [{"site_id": self.site_id, "item_id": self.item_id, "source_move_id": layer.source_id,
                 "position": self.positions[layer.source_id], "quantity": layer.quantity,
                 "value": layer.value, "unit_cost": layer.unit_cost} for layer in self.position.layers]


# -- the incremental path ------------------------------------------------------------------------


# Built once: a push values hundreds of moves per batch, and building a statement costs more
# than running it.
_SITE, _ITEM = bindparam("key_site_id"), bindparam("key_item_id")
_COST_OF = select(item_costs).where(item_costs.c.site_id == _SITE, item_costs.c.item_id == _ITEM)
_LAYERS_OF = (select(fifo_layers).where(fifo_layers.c.site_id == _SITE, fifo_layers.c.item_id == _ITEM)
              .order_by(fifo_layers.c.position, fifo_layers.c.source_move_id))
_MONTH_OF = select(valuation_months).where(valuation_months.c.site_id == _SITE, valuation_months.c.item_id == _ITEM,
                                           valuation_months.c.month == bindparam("key_month"))
_UPDATE_COST = update(item_costs).where(item_costs.c.site_id == _SITE, item_costs.c.item_id == _ITEM)
_UPDATE_MONTH = update(valuation_months).where(
    valuation_months.c.site_id == _SITE, valuation_months.c.item_id == _ITEM,
    valuation_months.c.month == bindparam("key_month"))
_UPDATE_LAYER = update(fifo_layers).where(
    fifo_layers.c.site_id == _SITE, fifo_layers.c.item_id == _ITEM,
    fifo_layers.c.source_move_id == bindparam("key_source_move_id"))
_DELETE_LAYER = delete(fifo_layers).where(
    fifo_layers.c.site_id == _SITE, fifo_layers.c.item_id == _ITEM,
    fifo_layers.c.source_move_id == bindparam("key_source_move_id"))


def _keys(site_id: str, item_id: str, **more: str) -> dict[str, str]:
    return {"key_site_id": site_id, "key_item_id": item_id, **{f"key_{k}": v for k, v in more.items()}}


def _load(conn: Connection, site_id: str, item_id: str, method: str) -> tuple[Book, bool]:
    keys = _keys(site_id, item_id)
    row = conn.execute(_COST_OF, keys).mappings().first()
    if row is None:
        return Book(site_id, item_id, method, Position(), None), False
    position = Position(row["quantity"], row["value"], row["unit_cost"])
    book = Book(site_id, item_id, row["method"], position, row["month"])
    if book.method == "fifo":
        layers = conn.execute(_LAYERS_OF, keys).mappings().all()
        kept = tuple(Layer(r["source_move_id"], r["quantity"], r["value"], r["unit_cost"]) for r in layers)
        book.position = Position(position.quantity, position.value, position.unit_cost, kept)
        book.positions = {r["source_move_id"]: r["position"] for r in layers}
    elif book.method == "monthly_weighted" and book.month is not None:
        month = conn.execute(_MONTH_OF, _keys(site_id, item_id, month=book.month)).mappings().one()
        book.opening = Position(month["opening_quantity"], month["opening_value"], month["opening_unit_cost"])
        book.totals = MonthTotals(month["incoming_quantity"], month["incoming_value"], month["outgoing_quantity"])
    return book, True


def _without(row: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in names}


def value_move(
    ctx: MutationContext, *, move_id: str, site_id: str, item_id: str, kind: str, quantity: Decimal,
    unit_cost: Decimal | None, reverses_id: str | None, occurred_at: datetime,
) -> None:
    """Value one appended move on the server (a no-op on devices and for transfer legs)."""
    if ctx.side is not Side.SERVER or kind in UNVALUED_KINDS:
        return
    item = ctx.get(items, id=item_id)
    method = item["valuation_method"] if item is not None else "moving_average"
    conn, version = ctx.conn, ctx.commit_version
    book, existed = _load(conn, site_id, item_id, method)
    before_month = book.month
    before_layers = {layer.source_id: layer for layer in book.position.layers}
    book.apply(Move(quantity, unit_cost, move_id, reverses_id), version, occurred_at)
    row = book.cost_row(version)
    if existed:
        conn.execute(_UPDATE_COST, {**_keys(site_id, item_id), **_without(row, "site_id", "item_id")})
    else:
        conn.execute(item_costs.insert(), row)
    if book.method == "fifo":
        _write_layers(conn, book, before_layers)
    elif book.method == "monthly_weighted":
        month_row = book.month_row()  # an earlier month's row stays as it was: it is never reopened
        if before_month == book.month:
            conn.execute(_UPDATE_MONTH, {**_keys(site_id, item_id, month=book.month),
                                         **_without(month_row, "site_id", "item_id", "month")})
        else:
            conn.execute(valuation_months.insert(), month_row)


def _write_layers(conn: Connection, book: Book, before: dict[str, Layer]) -> None:
    after = {layer.source_id: layer for layer in book.position.layers}
    for source in before:
        if source not in after:
            conn.execute(_DELETE_LAYER, _keys(book.site_id, book.item_id, source_move_id=source))
    for row in book.layer_rows():
        old = before.get(row["source_move_id"])
        if old is None:
            conn.execute(fifo_layers.insert(), row)
        elif (old.quantity, old.value) != (row["quantity"], row["value"]):
            conn.execute(_UPDATE_LAYER, {**_keys(book.site_id, book.item_id, source_move_id=row["source_move_id"]),
                                         "quantity": row["quantity"], "value": row["value"]})


# -- the rebuild ---------------------------------------------------------------------------------

BATCH = 2000


def _ledger(conn: Connection, site_id: str | None) -> Iterator[Any]:
    from erp.inventory.stock_move import stock_moves  # stock_move imports this module for its hook

    m = stock_moves.c
    query = (select(m.site_id, m.item_id, items.c.valuation_method, m.id, m.quantity, m.unit_cost,
                    m.reverses_id, m.occurred_at, m._version)
             .join(items, items.c.id == m.item_id)
             .where(m.kind.not_in(UNVALUED_KINDS))
             .order_by(m.site_id, m.item_id, m._version, m.id))
    if site_id is not None:
        query = query.where(m.site_id == site_id)
    # Streamed in chunks: memory holds one chunk and one item's position, never the ledger.
    yield from conn.execute(query.execution_options(stream_results=True, yield_per=BATCH))


class _Writer:
    """Buffers rows per table and writes them with executemany, BATCH at a time."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.rows: dict[str, list[dict[str, Any]]] = {name: [] for name in SERVER_ONLY}
        self.tables = {"item_costs": item_costs, "fifo_layers": fifo_layers, "valuation_months": valuation_months}

    def add(self, name: str, rows: list[dict[str, Any]]) -> None:
        self.rows[name].extend(rows)
        if len(self.rows[name]) >= BATCH:
            self.flush(name)

    def flush(self, name: str | None = None) -> None:
        for table in (name,) if name else SERVER_ONLY:
            if self.rows[table]:
                self.conn.execute(insert(self.tables[table]), self.rows[table])
                self.rows[table] = []


def _finish(writer: _Writer, book: Book, version: int) -> None:
    writer.add("item_costs", [book.cost_row(version)])
    if book.method == "fifo":
        writer.add("fifo_layers", book.layer_rows())
    elif book.method == "monthly_weighted" and book.month is not None:
        writer.add("valuation_months", [*book.closed_months, book.month_row()])


def rebuild_valuation(conn: Connection, *, site_id: str | None = None) -> int:
    """Recompute the valuation tables from the ledger (all sites, or one). Returns moves read."""
    for table in (fifo_layers, valuation_months, item_costs):
        conn.execute(delete(table).where(table.c.site_id == site_id) if site_id is not None else delete(table))
    writer = _Writer(conn)
    book: Book | None = None
    version = count = 0
    for row in _ledger(conn, site_id):
        if book is None or (book.site_id, book.item_id) != (row.site_id, row.item_id):
            if book is not None:
                _finish(writer, book, version)
            book = Book(row.site_id, row.item_id, row.valuation_method, Position(), None)
        book.apply(Move(row.quantity, row.unit_cost, row.id, row.reverses_id), row._version, row.occurred_at)
        version = row._version
        count += 1
    if book is not None:
        _finish(writer, book, version)
    writer.flush()
    return count

