"""Enrollment: a device joins one site and receives its id and bearer token."""

from __future__ import annotations

from protocol.base import Message


class EnrollRequest(Message, tag="enroll"):
    protocol_version: int
    schema_version: int
    site_id: str
    device_name: str


class EnrollResponse(Message, tag="enrolled"):
    device_id: str
    token: str  # secret: sent as "Authorization: Bearer <token>" on every sync request
    site_id: str
    protocol_version: int
    schema_version: int
