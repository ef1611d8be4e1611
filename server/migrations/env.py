"""Alembic environment: migrations always run on a connection the server hands in."""

from alembic import context

import sync.registry
from sync.schema import metadata

sync.registry.discover()  # import every module so its tables join the metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through server.db.upgrade_schema (or `jcerp server migrate`)")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
