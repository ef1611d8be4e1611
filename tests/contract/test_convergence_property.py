"""Property: whatever devices do offline, in whatever order they sync, with pushes repeated
and responses lost, every replica ends equal to the server for its scope, and every mutation
made is either applied exactly once or rejected with a reason the device can see."""

from __future__ import annotations

import json
import tempfile
from decimal import Decimal
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest
from sqlalchemy import func, select

from edge_client.client import EdgeClient
from edge_client.transport import Unreachable
from erp.inventory.item import UpdateItem
from erp.inventory.stock_count import Count
from erp.inventory.on_hand import on_hand
from erp.inventory.stock_move import Issue, Receive, Transfer, stock_moves
from sync.builtin import sync_rejections
from sync.context import Edit
from sync.errors import MutationRejected
from sync.ids import new_id
from sync.schema import sync_mutation_log
from tests.conftest import postgres_url
from tests.support import FlakyTransport, build_world, enrollment_code, now, scope_snapshot, signed_in_app

quantities = st.decimals(min_value=Decimal("0.5"), max_value=Decimal("40"), places=1)

action = st.one_of(
    st.tuples(st.just("receive"), st.integers(0, 3), quantities, st.booleans()),
    st.tuples(st.just("issue"), st.integers(0, 3), quantities, st.booleans()),
    st.tuples(st.just("transfer"), st.integers(0, 3), quantities, st.booleans()),
    st.tuples(st.just("count"), st.integers(0, 3), quantities, st.booleans()),
    st.tuples(st.just("rename"), st.integers(0, 3), st.sampled_from(["甲", "乙", "𠮷"]), st.booleans()),
    st.tuples(st.sampled_from(["offline", "online", "sync", "push", "pull", "lose", "repeat"]),
              st.integers(0, 3), st.none(), st.none()),
)


@contextmanager
def _server_database(kind: str, root: Path) -> Iterator[str]:
    """A fresh server database URL of the given kind, dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{root / 'server.db'}"
        return
    urls = postgres_url()
    try:
        yield next(urls)
    finally:
        urls.close()


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(devices=st.integers(2, 4), policy=st.sampled_from(["allow", "flag", "reject"]),
       actions=st.lists(action, min_size=5, max_size=40))
def test_every_replica_converges_and_every_mutation_is_accounted_for(kind, devices, policy, actions):
    with tempfile.TemporaryDirectory() as directory, _server_database(kind, Path(directory)) as url:
        root = Path(directory)
        with signed_in_app(url) as server:
            world = build_world(server, policy=policy)
            edges: list[EdgeClient] = []
            for index in range(devices):
                # the last of three or more devices belongs to the other site
                site = world.other_site if devices >= 3 and index == devices - 1 else world.site
                edge = EdgeClient.enroll(root / f"d{index}", server_url="http://testserver.local", site_id=site,
                                         enrollment_code=enrollment_code(server, site),
                                         device_name=f"d{index}", transport=FlakyTransport(client=server))
                edge.sync_once()
                edges.append(edge)
            made = [0] * devices

            for kind, who, value, second_location in actions:
                edge = edges[who % devices]
                flaky: FlakyTransport = edge.transport
                home_location = world.location if edge.identity.site_id == world.site else world.other_location
                other_location = world.location2 if edge.identity.site_id == world.site else world.location2
                location = world.location2 if (second_location and edge.identity.site_id == world.site) else home_location
                try:
                    if kind == "receive":
                        edge.run("inventory.receive", Receive(new_id(), world.item, location, value, now()))
                    elif kind == "issue":
                        edge.run("inventory.issue", Issue(new_id(), world.item, location, value, now()))
                    elif kind == "transfer" and edge.identity.site_id == world.site:
                        edge.run("inventory.transfer", Transfer(new_id(), new_id(), new_id(), world.item,
                                                                world.location, other_location, value, now()))
                    elif kind == "count":
                        edge.run("inventory.count", Count(new_id(), world.item, location, value, now()))
                    elif kind == "rename":
                        with edge.engine.begin() as conn:
                            versions = conn.exec_driver_sql("SELECT _fv FROM items WHERE id = ?", (world.item,)).scalar()
                        edge.run("inventory.update_item", UpdateItem(
                            item_id=world.item, name=Edit(value, json.loads(versions).get("name", 0))))
                    elif kind == "offline":
                        flaky.online = False
                        continue
                    elif kind == "online":
                        flaky.online = True
                        continue
                    elif kind == "lose":
                        flaky.lose_responses += 1
                        continue
                    elif kind == "repeat":
                        flaky.repeat_pushes += 1
                        continue
                    elif kind in ("sync", "push", "pull"):
                        try:
                            {"sync": edge.sync_once, "push": edge.push, "pull": edge.pull}[kind]()
                        except Unreachable:
                            pass
                        continue
                    else:
                        continue
                    made[who % devices] += 1
                except MutationRejected:
                    pass  # refused on the device at once (e.g. policy 'reject'): nothing queued

            for edge in edges:
                edge.transport.online = True
                edge.transport.lose_responses = 0
            for _ in range(2):
                for edge in edges:
                    edge.sync_once()

            def check(conn) -> None:
                for index, edge in enumerate(edges):
                    device_id = edge.identity.device_id
                    processed = conn.execute(select(func.count()).select_from(sync_mutation_log).where(
                        sync_mutation_log.c.device_id == device_id)).scalar_one()
                    assert processed == made[index], "every mutation made was processed exactly once"
                    rejected = conn.execute(select(sync_rejections.c.code, sync_rejections.c.message).where(
                        sync_rejections.c.device_id == device_id)).all()
                    assert all(code and message for code, message in rejected)
                    logged_rejections = conn.execute(select(func.count()).select_from(sync_mutation_log).where(
                        sync_mutation_log.c.device_id == device_id, sync_mutation_log.c.status == "rejected"
                    )).scalar_one()
                    assert logged_rejections == len(rejected)
                    expected = scope_snapshot(conn, edge.registry, site_id=edge.identity.site_id, device_id=device_id)
                    with edge.engine.connect() as local:
                        actual = scope_snapshot(local, edge.registry, site_id=edge.identity.site_id,
                                                device_id=device_id)
                    for table in expected:
                        assert actual[table] == expected[table], (
                            f"{table}: only on device {actual[table] - expected[table]}, "
                            f"only on server {expected[table] - actual[table]}")
                # ledger sums equal the derived balances
                balances: dict[tuple[str, str], Decimal] = {}
                for move in conn.execute(select(stock_moves.c.item_id, stock_moves.c.location_id,
                                                stock_moves.c.quantity)):
                    key = (move.item_id, move.location_id)
                    balances[key] = balances.get(key, Decimal(0)) + move.quantity
                derived = {(r.item_id, r.location_id): r.quantity for r in conn.execute(select(on_hand))}
                assert derived == balances

            for edge in edges:
                assert edge.status().pending == 0
            server.blocking_portal.call(server.app.state.db.read, check)
            for edge in edges:
                edge.replica.close()
