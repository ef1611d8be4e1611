"""Running a mutation's handler straight against a connection, the way the engine applies it.

Unit tests of business rules call handlers without the sync engine around them; this keeps the
one rule they must share with it: a mutation that refuses leaves nothing behind (its savepoint
is rolled back), and one that succeeds stays.
"""

from __future__ import annotations

from typing import Any, Mapping

from sqlalchemy import Connection

from sync.context import MutationContext
from sync.registry import MutationDef


def apply_in_savepoint(conn: Connection, definition: MutationDef, ctx: MutationContext,
                       args: Mapping[str, Any]) -> MutationContext:
    """Run ``definition`` with ``args`` in ``ctx``, in a savepoint rolled back if it raises."""
    with conn.begin_nested():
        definition.handler(ctx, definition.convert(args))
    return ctx
