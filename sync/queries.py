"""Read models of the sync engine for HQ: devices, rejections, field conflicts, scope checksums."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

import msgspec
from sqlalchemy import Connection, select, update

from sync.builtin import sync_conflicts, sync_rejections
from sync.checksum import scope_checksum
from sync.registry import Registry
from sync.schema import sync_devices
from sync.server_apply import current_version


class DeviceView(msgspec.Struct):
    id: str
    site_id: str
    name: str
    last_applied_seq: int
    enrolled_at: datetime
    last_seen_at: datetime | None
    revoked_at: datetime | None


class RejectionView(msgspec.Struct):
    id: str
    device_id: str
    site_id: str | None
    seq: int
    mutation: str
    mutation_version: int
    args: Any
    code: str
    message: str
    details: dict[str, Any]
    user_name: str | None
    rejected_at: datetime
    status: str


class ConflictView(msgspec.Struct):
    id: str
    device_id: str | None
    site_id: str | None
    seq: int | None
    table_name: str
    row_key: list[Any]
    field: str
    base_version: int
    device_value: Any
    server_value: Any
    kept: str
    detected_at: datetime
    status: str


def _device_view(r: Any) -> DeviceView:
    return DeviceView(r.id, r.site_id, r.name, r.last_applied_seq, r.enrolled_at, r.last_seen_at, r.revoked_at)


def list_devices(conn: Connection, *, site_id: str | None) -> list[DeviceView]:
    query = select(sync_devices).order_by(sync_devices.c.enrolled_at)
    if site_id:
        query = query.where(sync_devices.c.site_id == site_id)
    return [_device_view(r) for r in conn.execute(query)]


def get_device(conn: Connection, device_id: str) -> DeviceView | None:
    row = conn.execute(select(sync_devices).where(sync_devices.c.id == device_id)).first()
    return None if row is None else _device_view(row)


def list_rejections(
    conn: Connection, *, status: str | None, device_id: str | None, site_id: str | None, code: str | None
) -> list[RejectionView]:
    query = select(sync_rejections).order_by(sync_rejections.c.rejected_at, sync_rejections.c.seq)
    for column, value in ((sync_rejections.c.status, status), (sync_rejections.c.device_id, device_id),
                          (sync_rejections.c.site_id, site_id), (sync_rejections.c.code, code)):
        if value is not None:
            query = query.where(column == value)
    decode = msgspec.json.decode
    return [
        RejectionView(r.id, r.device_id, r.site_id, r.seq, r.mutation, r.mutation_version, decode(r.args_json),
                      r.code, r.message, decode(r.details_json), r.user_name, r.rejected_at, r.status)
        for r in conn.execute(query)
    ]


def list_conflicts(conn: Connection, *, status: str | None, device_id: str | None,
                   site_id: str | None = None) -> list[ConflictView]:
    query = select(sync_conflicts).order_by(sync_conflicts.c.detected_at)
    if site_id:
        query = query.where(sync_conflicts.c.site_id == site_id)
    if status:
        query = query.where(sync_conflicts.c.status == status)
    if device_id:
        query = query.where(sync_conflicts.c.device_id == device_id)
    decode = msgspec.json.decode
    return [
        ConflictView(r.id, r.device_id, r.site_id, r.seq, r.table_name, decode(r.row_key), r.field, r.base_version,
                     decode(r.device_value_json), decode(r.server_value_json), r.kept, r.detected_at, r.status)
        for r in conn.execute(query)
    ]


class TableChecksumView(msgspec.Struct):
    rows: int
    digest: str


class ScopeChecksumView(msgspec.Struct):
    """What a device's replica must hold once it has nothing pending and has pulled to ``version``."""

    device_id: str
    site_id: str
    version: int  # the server clock the checksum was read at
    tables: dict[str, TableChecksumView]


def device_scope_checksum(conn: Connection, registry: Registry, device_id: str,
                          grants_of: Callable[[Connection, str], frozenset[str]]) -> ScopeChecksumView | None:
    """The fingerprints the device's replica must match; ``grants_of(conn, role code)`` gives the
    grants of its role, which decide the tables and personal fields it receives."""
    device = get_device(conn, device_id)
    if device is None:
        return None
    role = conn.execute(select(sync_devices.c.role_code).where(sync_devices.c.id == device_id)).scalar_one()
    tables = scope_checksum(conn, registry, site_id=device.site_id, device_id=device_id,
                            grants=grants_of(conn, role))
    return ScopeChecksumView(device_id, device.site_id, current_version(conn),
                             {name: TableChecksumView(t.rows, t.digest) for name, t in tables.items()})


def revoke_device(conn: Connection, device_id: str, now: datetime) -> DeviceView | None:
    """Refuse the device from now on (its token stops working at once); None if unknown.
    Revoking twice keeps the first time."""
    conn.execute(update(sync_devices).where(sync_devices.c.id == device_id, sync_devices.c.revoked_at.is_(None))
                 .values(revoked_at=now))
    return get_device(conn, device_id)
