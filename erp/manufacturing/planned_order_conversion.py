"""One-call conversion of planned orders into real ones: purchase proposals become draft purchase
orders, one per supplier (``purchasing.create_po``); make proposals become planned work orders
(``manufacturing.create_work_order``). The documents are created by the same mutations a buyer
or planner would run, through whatever runs them for HQ (``CommandRunner``: the server's
``HqCommands``, with its permission checks and audit log).

A call converts what it can and reports the rest with a reason, never all-or-nothing: a
purchase proposal whose item has no supplier in its planning parameters (``no_supplier``), a
make proposal without issue and receipt locations (``no_locations``), a proposal already
converted or discarded (``not_proposed``), a mutation's own rejection (its code, e.g.
``manufacturing.bom_not_released``), or a mutation the user may not run (``auth.forbidden``:
a planner without ``purchasing.create_po`` converts the make proposals only).

Idempotent: a document's id is derived from the proposals it is made of (UUIDv5), and its
number from its id. Converting a converted proposal creates nothing. The document and the
proposal's ``converted`` mark are two transactions (the mutation's own, then the mark); if the
mark is lost (a crash, a concurrent call), the next call finds the document under its derived
id and only marks the proposal, so a proposal never yields two documents.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timezone
from decimal import Decimal
from typing import Any, Awaitable, Callable, Literal, Protocol, TypeVar

import msgspec
from sqlalchemy import Connection, select

from erp.manufacturing import errors
from erp.manufacturing.errors import InvalidTransition
from erp.manufacturing.item_planning import ItemPlanning, planning_of_site
from erp.manufacturing.planned_order import mark, planned_orders, proposals
from erp.manufacturing.work_order import CreateWorkOrder, work_orders
from erp.purchasing.purchase_order import CreatePurchaseOrder, NewLine, purchase_orders
from erp.access.errors import Forbidden
from sync.errors import MutationRejected

T = TypeVar("T")
_DOCUMENT_IDS = uuid.UUID("2f6c1d0e-8a4b-4e57-b3c9-71d5e0a4c2f8")


class CommandRunner(Protocol):
    """What conversion needs from HQ: reads and writes on the database, and mutations run as
    the signed-in user."""

    user: str | None

    def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Awaitable[T]: ...

    def write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Awaitable[T]: ...

    def run(self, name: str, args: Any) -> Awaitable[Any]: ...


class Outcome(msgspec.Struct, frozen=True):
    planned_order_id: str
    converted: bool
    document_kind: Literal["purchase_order", "work_order"] | None = None
    document_id: str | None = None
    created: bool = False  # False: converted by an earlier call (nothing created now)
    reason: str | None = None  # a stable code, when not converted
    message: str | None = None


class ConversionReport(msgspec.Struct, frozen=True):
    outcomes: list[Outcome]
    purchase_orders: list[str]  # created by this call
    work_orders: list[str]  # created by this call


class Document(msgspec.Struct, frozen=True):
    """A document to create, and the proposals it converts."""

    kind: Literal["purchase_order", "work_order"]
    document_id: str
    mutation: str
    args: Any
    planned_order_ids: list[str]


def document_id(kind: str, planned_order_ids: list[str]) -> str:
    return str(uuid.uuid5(_DOCUMENT_IDS, f"{kind}:{','.join(sorted(planned_order_ids))}"))


def document_number(kind: str, document: str) -> str:
    return f"{'PO' if kind == 'purchase_order' else 'WO'}-MRP-{uuid.UUID(document).hex[:12].upper()}"


def prepare(conn: Connection, site_id: str, ids: list[str] | None) -> tuple[list[Document], list[Outcome]]:
    """The documents to create for the site's proposals (``ids``, or all open ones when None),
    and the outcome of each proposal that needs none."""
    rows = proposals(conn, ids, site_id=site_id) if ids is not None else proposals(conn, site_id=site_id)
    found = {row["id"] for row in rows}
    outcomes = [Outcome(missing, False, reason=errors.UNKNOWN_PLANNED_ORDER, message="no such planned order")
                for missing in (ids or []) if missing not in found]
    params = planning_of_site(conn, site_id)
    buy: dict[str, list[Any]] = {}
    documents: list[Document] = []
    for row in rows:
        if row["site_id"] != site_id:
            outcomes.append(Outcome(row["id"], False, reason=errors.UNKNOWN_PLANNED_ORDER,
                                    message="the planned order is for another site"))
        elif row["status"] == "converted":
            outcomes.append(Outcome(row["id"], True, _KIND[row["kind"]], row["converted_document_id"]))
        elif row["status"] != "proposed":
            outcomes.append(Outcome(row["id"], False, reason=errors.NOT_PROPOSED,
                                    message=f"the planned order is {row['status']}"))
        elif row["kind"] == "purchase":
            param = params.get(row["item_id"])
            if param is None or param.supplier_id is None:
                outcomes.append(Outcome(row["id"], False, reason=errors.NO_SUPPLIER,
                                        message="the item has no supplier in its planning parameters"))
            else:
                buy.setdefault(param.supplier_id, []).append(row)
        else:
            document = _work_order(row, params.get(row["item_id"]))
            if isinstance(document, Outcome):
                outcomes.append(document)
            else:
                documents.append(document)
    for supplier_id, rows_of_supplier in sorted(buy.items()):
        documents.append(_purchase_order(site_id, supplier_id, rows_of_supplier, params))
    return documents, outcomes


_KIND: dict[str, Literal["purchase_order", "work_order"]] = {"purchase": "purchase_order", "make": "work_order"}


def _purchase_order(site_id: str, supplier_id: str, rows: list[Any], params: dict[str, ItemPlanning]) -> Document:
    ids = [row["id"] for row in rows]
    po_id = document_id("purchase_order", ids)
    lines = [NewLine(str(uuid.uuid5(_DOCUMENT_IDS, f"line:{row['id']}")), row["item_id"], row["quantity"],
                     params[row["item_id"]].unit_price or Decimal(0)) for row in rows]
    earliest = min(date.fromisoformat(row["due_date"]) for row in rows)
    args = CreatePurchaseOrder(po_id, site_id, document_number("purchase_order", po_id), supplier_id, lines,
                               expected_at=datetime.combine(earliest, time(), timezone.utc),
                               note=f"MRP run {rows[0]['run_id']}")
    return Document("purchase_order", po_id, "purchasing.create_po", args, ids)


def _work_order(row: Any, param: ItemPlanning | None) -> Document | Outcome:
    if param is None or param.issue_location_id is None or param.receipt_location_id is None:
        return Outcome(row["id"], False, reason=errors.NO_LOCATIONS,
                       message="the item has no issue and receipt locations in its planning parameters")
    wo_id = document_id("work_order", [row["id"]])
    args = CreateWorkOrder(wo_id, row["site_id"], document_number("work_order", wo_id), row["item_id"],
                           row["quantity"], date.fromisoformat(row["due_date"]), param.issue_location_id,
                           param.receipt_location_id, routing_id=param.routing_id,
                           note=f"MRP run {row['run_id']}")
    return Document("work_order", wo_id, "manufacturing.create_work_order", args, [row["id"]])


def document_exists(conn: Connection, kind: str, document: str) -> bool:
    table = purchase_orders if kind == "purchase_order" else work_orders
    return conn.execute(select(table.c.id).where(table.c.id == document)).first() is not None


def _status(conn: Connection, planned_order_id: str) -> str | None:
    return conn.execute(select(planned_orders.c.status).where(planned_orders.c.id == planned_order_id)).scalar()


async def convert(runner: CommandRunner, site_id: str, ids: list[str] | None) -> ConversionReport:
    """Convert the site's proposals ``ids`` (all open ones when None) in one call."""
    documents, outcomes = await runner.read(prepare, site_id, ids)
    created: dict[str, list[str]] = {"purchase_order": [], "work_order": []}
    for document in documents:
        made = False
        if not await runner.read(document_exists, document.kind, document.document_id):
            try:
                await runner.run(document.mutation, document.args)
                made = True
            except (MutationRejected, Forbidden) as rejection:
                # A concurrent call may have created it meanwhile: then only the mark is missing.
                if not await runner.read(document_exists, document.kind, document.document_id):
                    outcomes.extend(Outcome(i, False, reason=rejection.code, message=rejection.message)
                                    for i in document.planned_order_ids)
                    continue
        try:
            await runner.write(mark, document.planned_order_ids, "convert", user=runner.user,
                               document_id=document.document_id)
        except InvalidTransition:
            pass  # marked by a concurrent call: the document is the same one
        if made:
            created[document.kind].append(document.document_id)
        outcomes.extend(Outcome(i, True, document.kind, document.document_id, created=made)
                        for i in document.planned_order_ids)
    outcomes.sort(key=lambda outcome: outcome.planned_order_id)
    return ConversionReport(outcomes, created["purchase_order"], created["work_order"])
