"""The audit log: every sign-in, administrative change, device enrollment and revocation,
pushed or HQ-run mutation and data export, append-only and hash-chained.

- ``chain``: canonical entry bytes, the link hash and verification (pure).
- ``recorder``: ``record``/``record_many``, called in the transaction of the change recorded.
- ``queries``: the HQ API's reads: filtered pages, and the chain walk behind verify.

The tables are the access module's (``erp/access/audit_log.py``), server-only. What is recorded
under which action name, and how to query and verify, is in docs/security.md ("Audit log").

Invariants: entries are only ever appended; each names its actor (user name, or none), device,
site, source (client address or ``device:<id>``), subject and details; details never hold a
password, token or enrollment code.
"""

from server.audit.recorder import Event, device_source, record, record_many, source_of

__all__ = ["Event", "device_source", "record", "record_many", "source_of"]
