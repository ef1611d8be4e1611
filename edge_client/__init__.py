"""The device side: a local SQLite replica, the outbox, rebase, and the sync client.

Local state is always the server's state (as of the last pull) plus the effects of the
device's pending mutations, re-run on top of it.
"""
