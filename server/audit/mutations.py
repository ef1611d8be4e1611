"""Audit events for mutations: each one a device pushed, and each one HQ ran.

Invariants:
- A pushed mutation is recorded once, when it is processed: ``mutation.applied`` or
  ``mutation.rejected`` (with the rejection's code). A repeat acknowledged as ``duplicate``
  changes nothing and is not recorded again.
- The entry names the user the mutation carries (who acted on the shared device), the device
  and its site; its subject is ``<device id>:<seq>``, the mutation's identity
  (``sync_mutation_log``'s key), and its details the mutation's name and version, its clock
  (HLC) and the change version it committed in.
- An HQ mutation's subject is ``hq:<change version>``; its actor is the signed-in user.
- No argument values and no rejection messages: they can hold personal data (an HR record),
  which an append-only log could never erase. The rejection's stable code says why; the
  arguments of a rejected push stay in ``sync_rejections``, and what was written is in the
  module's own tables.
"""

from __future__ import annotations

from typing import Any, Sequence

from protocol.push import PushResponse
from server.audit.recorder import Event, device_source


def pushed(device_id: str, site_id: str, batch: Sequence[Any], response: PushResponse) -> list[Event]:
    """One event per mutation of ``batch`` (``DecodedMutation``s) that ``response`` reports
    applied or rejected, in sequence order."""
    envelopes = {item.envelope.seq: item.envelope for item in batch}
    source = device_source(device_id)
    events = []
    for result in response.results:
        if result.status == "duplicate":
            continue
        envelope = envelopes[result.seq]
        detail: dict[str, Any] = {"mutation": f"{envelope.name}@{envelope.version}", "seq": envelope.seq,
                                  "hlc": envelope.hlc, "commit_version": response.server_version}
        if result.status == "rejected":
            detail["code"] = result.code
        events.append(Event(f"mutation.{result.status}", envelope.user, device_id, site_id, source,
                            f"{device_id}:{envelope.seq}", detail))
    return events


def hq_run(name: str, version: int, *, user: str | None, site_id: str | None, source: str | None,
           commit_version: int | None, code: str | None = None) -> Event:
    """An HQ mutation: applied (``code`` None) or rejected (nothing of it was written)."""
    detail: dict[str, Any] = {"mutation": f"{name}@{version}"}
    if commit_version is not None:
        detail["commit_version"] = commit_version
    if code is not None:
        detail["code"] = code
    subject = f"hq:{commit_version}" if commit_version is not None else None
    return Event("mutation.rejected" if code else "mutation.applied", user, None, site_id, source or "hq", subject,
                 detail)
