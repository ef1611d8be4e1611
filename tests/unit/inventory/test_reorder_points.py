"""Reorder points (``erp.inventory.reorder_point``): set at HQ or by a branch for its own site,
overwritten in place, and refused when the numbers cannot make a sensible order."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterator

import pytest
from sqlalchemy import Connection, create_engine, select

from erp.inventory import count_errors
from erp.inventory.count_queries import list_reorder_points
from erp.inventory.reorder_point import reorder_points
from sync.context import Actor, MutationContext, MutationRef, Side
from sync.errors import MutationRejected, OutOfScope
from sync.registry import discover
from sync.schema import metadata
from tests.unit.handler_runner import apply_in_savepoint

HQ = Actor(None, None, "采购总监")
BRANCH = Actor("pc-1", "site-A", "分支经理 𠮷")


class Runner:
    def __init__(self, conn: Connection) -> None:
        self.conn, self.registry, self.version = conn, discover(), 0

    def __call__(self, name: str, actor: Actor, /, **args: Any) -> None:
        definition = self.registry.resolve_latest(name)
        self.version += 1
        ref = MutationRef(actor.device_id, self.version, name, 1, f"{self.version:015d}-00000-{actor.device_id}")
        ctx = MutationContext(self.conn, self.registry, Side.SERVER, actor, ref, commit_version=self.version)
        apply_in_savepoint(self.conn, definition, ctx, args)


@pytest.fixture
def run() -> Iterator[Runner]:
    engine = create_engine("sqlite://")
    with engine.connect() as conn:
        runner = Runner(conn)
        metadata.create_all(conn)
        for site in ("site-A", "site-B"):
            runner("org.create_site", HQ, site_id=site, code=site, name=f"仓 {site}", kind="warehouse")
        runner("inventory.create_unit", HQ, code="KG", name="千克")
        runner("inventory.create_item", HQ, item_id="item-1", sku="STEEL-1", name="钢板 𠮷", unit_code="KG")
        yield runner
    engine.dispose()


def test_a_reorder_point_is_created_then_overwritten(run):
    run("inventory.set_reorder_point", HQ, item_id="item-1", site_id="site-A", reorder_point=Decimal("20"),
        reorder_quantity=Decimal("100"), preferred_supplier_id="sup-1", lead_time_days=7)
    run("inventory.set_reorder_point", BRANCH, item_id="item-1", site_id="site-A", reorder_point=Decimal("25.5"),
        max_level=Decimal("150"), order_multiple=Decimal("12"))
    [point] = list_reorder_points(run.conn, site_id="site-A")
    assert (point.reorder_point, point.reorder_quantity, point.max_level) == (Decimal("25.5"), None, 150)
    assert (point.order_multiple, point.preferred_supplier_id, point.lead_time_days) == (12, None, 0)
    assert point.updated_by == "分支经理 𠮷"
    assert list_reorder_points(run.conn, site_id="site-B") == []


def test_a_branch_sets_reorder_points_of_its_own_site_only(run):
    with pytest.raises(OutOfScope):
        run("inventory.set_reorder_point", BRANCH, item_id="item-1", site_id="site-B", reorder_point=Decimal(1),
            reorder_quantity=Decimal(1))
    assert run.conn.execute(select(reorder_points)).first() is None


@pytest.mark.parametrize("values", [
    {"reorder_point": Decimal(-1), "reorder_quantity": Decimal(5)},
    {"reorder_point": Decimal(5)},  # neither a quantity nor a maximum
    {"reorder_point": Decimal(5), "reorder_quantity": Decimal(5), "max_level": Decimal(50)},  # both
    {"reorder_point": Decimal(5), "reorder_quantity": Decimal(0)},
    {"reorder_point": Decimal(5), "max_level": Decimal(5)},  # the maximum must be above the point
    {"reorder_point": Decimal(5), "reorder_quantity": Decimal(5), "min_order_quantity": Decimal(0)},
    {"reorder_point": Decimal(5), "reorder_quantity": Decimal(5), "order_multiple": Decimal("0.0000000001")},
    {"reorder_point": Decimal("NaN"), "reorder_quantity": Decimal(5)},
])
def test_numbers_that_make_no_sensible_order_are_refused(run, values):
    with pytest.raises(MutationRejected) as refused:
        run("inventory.set_reorder_point", HQ, item_id="item-1", site_id="site-A", **values)
    assert refused.value.code == count_errors.INVALID_REORDER_POINT


def test_unknown_items_and_sites_are_refused(run):
    for item, site, code in (("nope", "site-A", "inventory.unknown_item"),
                             ("item-1", "nope", "inventory.unknown_site")):
        with pytest.raises(MutationRejected) as refused:
            run("inventory.set_reorder_point", HQ, item_id=item, site_id=site, reorder_point=Decimal(1),
                reorder_quantity=Decimal(2))
        assert refused.value.code == code
