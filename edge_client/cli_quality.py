"""``jcerp edge`` commands for quality inspectors: inspections due, recording one, nonconformances.

They read the device's own replica, so they work offline: ``inspections`` runs the same
pending-inspection query as HQ over the receipts and work orders this device holds (a device
whose role may not read purchasing or manufacturing sees none of those); ``inspect`` is a
``quality.record_result`` mutation like the tablet app's, judged here at once and again by the
server on sync; ``ncrs`` lists the site's nonconformances as last synced.
"""

from __future__ import annotations

import argparse
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from edge_client.cli import _decimal, _now, _with_client
from edge_client.client import EdgeClient
from erp.inventory.item import items
from erp.manufacturing.work_order import work_orders
from erp.quality import queries
from erp.quality.plan import inspection_plans
from erp.quality.result import Measurement, RecordResult, inspection_results
from sync.errors import NotFound
from sync.ids import new_id

OK_WORDS = {"ok", "pass", "合格", "y", "yes"}
NOT_OK_WORDS = {"ng", "not-ok", "fail", "不合格", "n", "no"}


def _measurement(text: str) -> Measurement:
    """``NAME=VALUE``: a number for a measured characteristic, ok / ng (合格 / 不合格) for an attribute."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"{text!r}: write NAME=VALUE")
    word = value.strip().lower()
    if word in OK_WORDS or word in NOT_OK_WORDS:
        return Measurement(name.strip(), ok=word in OK_WORDS)
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r}: the value is a number, or ok / ng") from None
    return Measurement(name.strip(), value=number)


def cmd_inspections(client: EdgeClient, a: argparse.Namespace) -> int:
    with client.engine.begin() as conn:
        due = queries.pending(conn, site_id=client.identity.site_id, stage=a.stage)
        skus = dict(conn.execute(select(items.c.id, items.c.sku)).all())
    for p in due:
        operation = f"op {p.operation_seq}" if p.operation_seq is not None else "-"
        print(f"{p.stage}\t{p.document}\t{operation}\t{skus.get(p.item_id, p.item_id)}\tlot {p.lot_no or '-'}\t"
              f"qty {p.quantity}\tplan {p.plan_code}\tsample {p.required_sample or '-'}\t{p.source_id}")
    if not due:
        print("nothing to inspect")
    return 0


def cmd_inspect(client: EdgeClient, a: argparse.Namespace) -> int:
    site_id = client.identity.site_id
    with client.engine.begin() as conn:
        plan = conn.execute(select(inspection_plans).where(inspection_plans.c.code == a.plan,
                                                           inspection_plans.c.active.is_(True))).first()
        if plan is None:
            raise NotFound(f"no active inspection plan {a.plan} on this device (sync, or check the code)",
                           code="edge.unknown_plan", plan_code=a.plan)
        source_id = a.receipt
        if a.work_order:
            order = conn.execute(select(work_orders.c.id).where(work_orders.c.number == a.work_order)).first()
            if order is None:
                raise NotFound(f"no work order {a.work_order} on this device", code="edge.unknown_work_order",
                               number=a.work_order)
            source_id = order.id
    result_id = new_id()
    seq = client.run("quality.record_result", RecordResult(
        result_id=result_id, plan_id=plan.id, stage=plan.stage, item_id=plan.item_id, site_id=site_id,
        sample_size=a.sample, measurements=a.measure, occurred_at=_now(), lot_no=a.lot, source_id=source_id,
        operation_seq=a.op, lot_quantity=a.lot_qty, note=a.note, supersedes_id=a.supersedes), user=a.user)
    with client.engine.begin() as conn:
        row = conn.execute(select(inspection_results).where(inspection_results.c.id == result_id)).first()
    failed = f" ({row.failed})" if row.failed else ""
    print(f"{row.verdict}{failed}: result {result_id} against {plan.code} v{plan.version} "
          f"(mutation #{seq}, pending sync)")
    return 0


def cmd_ncrs(client: EdgeClient, a: argparse.Namespace) -> int:
    with client.engine.begin() as conn:
        found = queries.list_ncrs(conn, site_id=client.identity.site_id)
        skus = dict(conn.execute(select(items.c.id, items.c.sku)).all())
    for n in found:
        if n.status == "closed" and not a.all:
            continue
        print(f"{n.id}\t{n.status}\t{n.stage}\t{skus.get(n.item_id, n.item_id)}\tlot {n.lot_no or '-'}\t"
              f"{'held' if n.held else 'not held'}\t{n.disposition or '-'}\t{n.description}")
    return 0


def add_quality_commands(sub: argparse._SubParsersAction) -> None:
    listing = sub.add_parser("inspections", help="receipts, operations and completions waiting for inspection")
    listing.add_argument("--stage", choices=("incoming", "in_process", "final"))
    listing.set_defaults(handler=_with_client(cmd_inspections))

    inspect = sub.add_parser("inspect", help="record an inspection result (检验记录)")
    inspect.add_argument("--plan", required=True, help="inspection plan code (its active version is used)")
    source = inspect.add_mutually_exclusive_group()
    source.add_argument("--receipt", help="the receipt inspected (id from `inspections`), incoming")
    source.add_argument("--work-order", help="the work order number, in-process or final")
    inspect.add_argument("--op", type=int, help="routing operation sequence, in-process")
    inspect.add_argument("--lot", help="the lot inspected (批次号)")
    inspect.add_argument("--lot-qty", type=_decimal, help="how many pieces the lot holds")
    inspect.add_argument("--sample", required=True, type=int, help="pieces inspected")
    inspect.add_argument("--measure", required=True, action="append", type=_measurement, metavar="NAME=VALUE",
                         help="one reading: a number, or ok / ng; repeat per piece and characteristic")
    inspect.add_argument("--note")
    inspect.add_argument("--supersedes", help="id of the result this one corrects")
    inspect.add_argument("--user", help="who is acting (default: the user signed in on this device)")
    inspect.set_defaults(handler=_with_client(cmd_inspect))

    ncrs = sub.add_parser("ncrs", help="nonconformances of this site (不合格品)")
    ncrs.add_argument("--all", action="store_true", help="closed ones too")
    ncrs.set_defaults(handler=_with_client(cmd_ncrs))
