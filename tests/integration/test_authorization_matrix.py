"""The authorization matrix: every HQ route and every mutation, for every built-in role, in and
out of the user's site.

Generated from the app's route table and the mutation registry, so a new route or mutation is
in the matrix the day it is added: a route without a declared permission fails
``test_every_hq_route_declares_who_may_call_it``, and its cases join the matrix below.

Expected outcomes come from the permission rules (``erp/access/permissions.py``), not from a
hand-written table: a role's call must be refused with 403 exactly when none of its grants
matches the route's permission, and a user bound to one site is refused (403
``auth.out_of_site``) when a read names another site. Without a token, or with an expired or
revoked one, every non-public route answers 401.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, update

from erp.access.errors import Forbidden
from erp.access.permissions import BUILTIN_ROLES, allowed
from erp.access.tables import hq_sessions
from server.auth.service import Principal
from sync.errors import JcerpError, OutOfScope
from tests.support import build_world, sign_in, signed_in_app

PASSWORD = "矩阵-口令-2026"
ROLES = [role.code for role in BUILTIN_ROLES]


def hq_routes(app) -> list[tuple[str, str, dict]]:
    """(method, path, opt) of every HQ route, OPTIONS aside."""
    found = []
    for route in app.routes:
        if not route.path.startswith("/api/"):
            continue
        for handler in getattr(route, "route_handlers", []):
            for method in sorted(handler.http_methods - {"OPTIONS"}):
                found.append((method, route.path, dict(handler.opt)))
    return sorted(found)


@pytest.fixture(scope="module")
def matrix_env(tmp_path_factory):
    db = tmp_path_factory.mktemp("matrix") / "server.db"
    with signed_in_app(f"sqlite+aiosqlite:///{db}") as admin:
        world = build_world(admin)
        users = {}
        for role in ROLES:
            answer = admin.post("/api/v1/admin/users", json={
                "username": f"u-{role}", "display_name": f"{role} 𠮷", "password": PASSWORD, "roles": [role],
                "site_id": world.site})
            assert answer.status_code == 201, answer.text
            users[role] = answer.json()["id"]
        yield admin, world, users, str(db)


def _concrete(path: str, world) -> str:
    ids = {"item_id": world.item, "warehouse_id": world.warehouse, "user_id": "no-such-user",
           "exception_id": "no-such-exception", "device_id": "no-such-device", "code": "no-such-role"}
    return re.sub(r"\{(\w+):\w+\}", lambda m: ids.get(m.group(1), "x"), path)


def _call(client, method: str, path: str, token: str | None, params: dict | None = None):
    headers = {"authorization": f"Bearer {token}"} if token else {}
    kwargs = {"params": params, "headers": headers}
    if method in ("POST", "PUT", "PATCH"):
        kwargs["json"] = {}
    client.headers.pop("authorization", None)
    try:
        return client.request(method, path, **kwargs)
    finally:
        client.headers["authorization"] = ADMIN_TOKEN[0]


ADMIN_TOKEN: list[str] = []


def test_every_hq_route_declares_who_may_call_it(matrix_env):
    admin, *_ = matrix_env
    routes = hq_routes(admin.app)
    assert len(routes) >= 25
    for method, path, opt in routes:
        declared = [key for key in ("permission", "authenticated", "public") if opt.get(key)]
        assert len(declared) == 1, f"{method} {path} must declare exactly one of permission/authenticated/public"
    public = [(m, p) for m, p, opt in routes if opt.get("public")]
    assert public == [("POST", "/api/v1/auth/login")]


def _cases(app):
    for method, path, opt in hq_routes(app):
        if opt.get("public"):
            continue
        for role in ROLES:
            yield method, path, opt, role


def test_the_route_matrix_for_every_role(matrix_env):
    admin, world, users, _ = matrix_env
    ADMIN_TOKEN[:] = [admin.headers["authorization"]]
    checked = 0
    for method, path, opt, role in _cases(admin.app):
        # Signing out ends the session it is sent with: give it one of its own.
        token = sign_in_as(admin, role, fresh=path.endswith("/logout"))
        response = _call(admin, method, _concrete(path, world), token)
        permission = opt.get("permission")
        grants = next(r.grants for r in BUILTIN_ROLES if r.code == role)
        if permission is None or allowed(grants, permission):
            assert response.status_code not in (401, 403), (role, method, path, response.text)
        else:
            assert response.status_code == 403, (role, method, path, response.status_code)
            assert response.json()["code"] == "auth.forbidden"
        checked += 1
    print(f"route × role cases: {checked}")
    assert checked >= 25 * len(ROLES)


_tokens: dict[str, str] = {}


def sign_in_as(admin, role: str, *, fresh: bool = False) -> str:
    if fresh:
        _tokens.pop(role, None)
        token = sign_in_as(admin, role)
        _tokens.pop(role, None)
        return token
    if role not in _tokens:
        saved = admin.headers.pop("authorization", None)
        try:
            _tokens[role] = sign_in(admin, f"u-{role}", PASSWORD)["token"]
        finally:
            admin.headers["authorization"] = saved
    return _tokens[role]


def test_site_bound_users_read_their_own_site_only(matrix_env):
    admin, world, users, _ = matrix_env
    ADMIN_TOKEN[:] = [admin.headers["authorization"]]
    site_routes = [(m, p, opt) for m, p, opt in hq_routes(admin.app)
                   if m == "GET" and "site_id" in _query_parameters(admin.app, p)]
    assert {p for _, p, _ in site_routes} >= {"/api/v1/on-hand", "/api/v1/movements", "/api/v1/warehouses",
                                             "/api/v1/locations", "/api/v1/inventory-exceptions",
                                             "/api/v1/devices", "/api/v1/rejections", "/api/v1/conflicts"}
    checked = 0
    for method, path, opt in site_routes:
        for role in ROLES:
            grants = next(r.grants for r in BUILTIN_ROLES if r.code == role)
            if not allowed(grants, opt["permission"]):
                continue
            token = sign_in_as(admin, role)
            inside = _call(admin, method, path, token, {"site_id": world.site})
            outside = _call(admin, method, path, token, {"site_id": world.other_site})
            assert inside.status_code == 200, (role, path, inside.text)
            assert outside.status_code == 403 and outside.json()["code"] == "auth.out_of_site", (role, path)
            unfiltered = _call(admin, method, path, token)
            assert unfiltered.status_code == 200
            body = unfiltered.json()
            rows = body["items"] if isinstance(body, dict) else body
            assert all(row.get("site_id") in (None, world.site) for row in rows), (role, path)
            checked += 3
    # An administrator bound to no site reads the other site too.
    assert admin.get("/api/v1/on-hand", params={"site_id": world.other_site}).status_code == 200
    print(f"site-scope cases: {checked}")
    assert checked > 0


def _query_parameters(app, path: str) -> set[str]:
    openapi_path = re.sub(r"\{(\w+):\w+\}", r"{\1}", path)  # the route table's {id:str} is {id} in OpenAPI
    operation = app.openapi_schema.to_schema()["paths"][openapi_path]["get"]
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}


def test_the_mutation_matrix_for_every_role(matrix_env):
    """Every registered mutation run through HQ commands as each role: refused exactly when the
    role lacks the mutation's permission, before anything is read or written."""
    import asyncio

    admin, world, users, db = matrix_env
    hq = admin.app.state.hq
    registry = admin.app.state.registry
    checked = 0
    for name in sorted(registry.latest):
        for role in BUILTIN_ROLES:
            principal = Principal(users[role.code], f"u-{role.code}", role.code, world.site, (role.code,),
                                  frozenset(role.grants))
            try:
                asyncio.run(hq.as_user(principal).run(name, None))
                refused = False
            except Forbidden:
                refused = True
            except (JcerpError, AttributeError, TypeError):
                refused = False  # got past the permission check and failed on the empty arguments
            assert refused == (not allowed(role.grants, name)), (role.code, name)
            checked += 1
    print(f"mutation × role cases: {checked}")
    assert checked == len(registry.latest) * len(BUILTIN_ROLES)


def test_a_site_bound_manager_cannot_write_another_sites_rows(matrix_env):
    admin, world, users, _ = matrix_env
    ADMIN_TOKEN[:] = [admin.headers["authorization"]]
    token = sign_in_as(admin, "branch_manager")
    other_warehouse = admin.get("/api/v1/warehouses", params={"site_id": world.other_site}).json()[0]["id"]
    headers = {"authorization": f"Bearer {token}"}
    saved = admin.headers.pop("authorization")
    try:
        outside = admin.post("/api/v1/locations", json={"warehouse_id": other_warehouse, "code": "X-1", "name": "x"},
                             headers=headers)
        inside = admin.post("/api/v1/locations", json={"warehouse_id": world.warehouse, "code": "X-1", "name": "x"},
                            headers=headers)
    finally:
        admin.headers["authorization"] = saved
    assert outside.status_code == 403 and outside.json()["code"] == OutOfScope.code, outside.text
    assert inside.status_code == 201, inside.text


def test_no_token_an_expired_token_and_a_revoked_token_are_refused(matrix_env):
    admin, world, users, db = matrix_env
    ADMIN_TOKEN[:] = [admin.headers["authorization"]]
    routes = [(m, p) for m, p, opt in hq_routes(admin.app) if not opt.get("public")]
    for method, path in routes:
        response = _call(admin, method, _concrete(path, world), None)
        assert response.status_code == 401 and response.json()["code"] == "auth.unauthenticated", (method, path)
    saved = admin.headers.pop("authorization")
    try:
        expiring = sign_in(admin, "u-hq_admin", PASSWORD)["token"]
        revoked = sign_in(admin, "u-hq_admin", PASSWORD)["token"]
    finally:
        admin.headers["authorization"] = saved
    engine = create_engine(f"sqlite:///{db}")
    from server.auth.service import token_digest
    with engine.begin() as conn:
        conn.execute(update(hq_sessions).where(hq_sessions.c.token_hash == token_digest(expiring))
                     .values(expires_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
    engine.dispose()
    expired = _call(admin, "GET", "/api/v1/auth/me", expiring)
    assert expired.status_code == 401 and expired.json()["code"] == "auth.token_expired"
    assert _call(admin, "POST", "/api/v1/auth/logout", revoked).status_code == 200
    after = _call(admin, "GET", "/api/v1/auth/me", revoked)
    assert after.status_code == 401 and after.json()["code"] == "auth.unauthenticated"


def test_the_push_matrix_for_every_device_role(matrix_env):
    """Every registered mutation pushed from a device of each built-in role: refused exactly
    when the device's role lacks the mutation's permission (``server/auth/device_access.py``,
    the check ``apply_push`` runs on each mutation; its wiring is in tests/contract/test_device_access.py)."""
    from protocol.push import MutationEnvelope
    from server.auth.device_access import DeviceAccess
    from sync.errors import MutationRejected

    admin, world, users, db = matrix_env
    registry = admin.app.state.registry
    engine = create_engine(f"sqlite:///{db}")
    checked = 0
    with engine.connect() as conn:
        for role in BUILTIN_ROLES:
            access = DeviceAccess(conn, {"site_id": world.site, "role_code": role.code})
            for name in sorted(registry.latest):
                envelope = MutationEnvelope(seq=1, name=name, version=1, args=None, hlc="000000000000001-00000-x")
                try:
                    access.check(envelope)
                    refused = False
                except MutationRejected as refusal:
                    assert refusal.code == "auth.device_role_forbids"
                    refused = True
                assert refused == (not allowed(role.grants, name)), (role.code, name)
                checked += 1
    engine.dispose()
    print(f"device role × mutation cases: {checked}")
    assert checked == len(registry.latest) * len(BUILTIN_ROLES)
