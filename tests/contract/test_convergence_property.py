"""Property: whatever devices do offline, in whatever order they sync, with pushes repeated
and responses lost, every replica ends equal to the server for its scope, and every mutation
made is either applied exactly once or rejected with a reason the device can see."""

from __future__ import annotations

import json
import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st
from litestar.testing import TestClient
from sqlalchemy import create_engine, func, select

from edge_client.client import EdgeClient
from edge_client.transport import Unreachable
from erp.inventory.item import UpdateItem
from erp.inventory.stock_count import Count
from erp.inventory.stock_move import Issue, Receive, Transfer
from server.app import create_app
from sync.builtin import sync_rejections
from sync.context import Edit
from sync.errors import MutationRejected
from sync.ids import new_id
from sync.schema import sync_mutation_log
from tests.support import FlakyTransport, build_world, now, scope_snapshot

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


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(devices=st.integers(2, 4), policy=st.sampled_from(["allow", "flag", "reject"]),
       actions=st.lists(action, min_size=5, max_size=40))
def test_every_replica_converges_and_every_mutation_is_accounted_for(devices, policy, actions):
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        url = f"sqlite+aiosqlite:///{root / 'server.db'}"
        with TestClient(create_app(url)) as server:
            world = build_world(server, policy=policy)
            edges: list[EdgeClient] = []
            for index in range(devices):
                # the last of three or more devices belongs to the other site
                site = world.other_site if devices >= 3 and index == devices - 1 else world.site
                edge = EdgeClient.enroll(root / f"d{index}", server_url="http://testserver.local", site_id=site,
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

            server_engine = create_engine(f"sqlite:///{root / 'server.db'}")
            with server_engine.connect() as conn:
                for index, edge in enumerate(edges):
                    device_id = edge.identity.device_id
                    assert edge.status().pending == 0
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
                    assert actual == expected
                # ledger sums equal the derived balances
                balances: dict[tuple[str, str], Decimal] = {}
                for item_id, location_id, quantity in conn.exec_driver_sql(
                        "SELECT item_id, location_id, quantity FROM stock_moves").all():
                    balances[(item_id, location_id)] = balances.get((item_id, location_id), Decimal(0)) + Decimal(quantity)
                on_hand = {(r[0], r[1]): Decimal(r[2]) for r in conn.exec_driver_sql(
                    "SELECT item_id, location_id, quantity FROM on_hand").all()}
                assert on_hand == balances
            server_engine.dispose()
            for edge in edges:
                edge.replica.close()
