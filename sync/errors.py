"""Typed errors of the sync engine, each with a stable code.

Invariant: every error that can reach a user or HQ carries a dotted, stable ``code`` (for
translation and filtering), a human message, and JSON-safe ``details``. Codes never change
meaning once released; new situations get new codes.
"""

from __future__ import annotations

from typing import Any


class JcerpError(Exception):
    """Base class: an error with a stable code, a message and details."""

    code: str = "jcerp.error"
    http_status: int = 400

    def __init__(self, message: str, /, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.details = details


class MutationRejected(JcerpError):
    """A business rule refused a mutation. It is recorded, never retried automatically.

    Raised by mutation handlers on either side. On the device it refuses the action at once;
    on the server it becomes a stored rejection that reaches the device's conflict inbox.
    """

    code = "mutation.rejected"
    http_status = 422


class OutOfScope(MutationRejected):
    """A mutation tried to write rows outside the device's site."""

    code = "sync.out_of_scope"
    http_status = 403


class PersonalFieldForbidden(MutationRejected):
    """A write to a personal field (an ID number, a phone, a salary...) by a device or user whose
    role may not see it: nobody writes what they may not read."""

    code = "sync.personal_field_forbidden"
    http_status = 403


class ProtocolError(JcerpError):
    """A request that breaks the wire protocol: nothing of it is applied."""

    code = "sync.bad_request"
    http_status = 400


class SequenceGap(ProtocolError):
    code = "sync.sequence_gap"
    http_status = 409


class ClientOutdated(ProtocolError):
    code = "sync.client_outdated"
    http_status = 426


class UnknownDevice(ProtocolError):
    code = "sync.unknown_device"
    http_status = 401


class BatchTooLarge(ProtocolError):
    code = "sync.batch_too_large"
    http_status = 413


class UnknownMutation(ProtocolError):
    code = "sync.unknown_mutation"
    http_status = 422


class InvalidArguments(ProtocolError):
    code = "sync.invalid_arguments"
    http_status = 422


class CursorRegressed(JcerpError):
    """The server answered with a cursor older than the device's: refuse to move backwards."""

    code = "sync.cursor_regressed"
    http_status = 409


class NotFound(JcerpError):
    code = "jcerp.not_found"
    http_status = 404
