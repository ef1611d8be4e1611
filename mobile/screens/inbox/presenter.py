"""The conflict inbox: every rejection and field conflict addressed to this tablet, with its
reason in the clerk's language; fix a rejected operation and resubmit it, or discard it;
acknowledge a conflict.

What a clerk may change on a rejected operation is its plain values (quantity, counted
quantity, reference, reason, and the lot or serial number it named); ids and times stay as
they were. ``EdgeClient.resubmit`` queues
the corrected operation and closes the rejection in one local transaction.
"""

from __future__ import annotations

from typing import Any

from edge_client.client import InboxEntry
from mobile.presenter import Presenter
from sync.errors import JcerpError

FIXED_ARGS = {"occurred_at"}  # besides every *_id
# Shown only when the operation named one: a mis-scanned lot can be corrected, but an item that
# is not tracked must not grow a lot field to fill.
IF_GIVEN_ARGS = {"lot_no", "serial_no", "expires_on"}


def editable(args: dict[str, Any]) -> dict[str, str]:
    """The arguments a clerk may correct, as text."""
    return {name: "" if value is None else str(value) for name, value in args.items()
            if not name.endswith("_id") and name not in FIXED_ARGS
            and not (name in IF_GIVEN_ARGS and value is None)}


class InboxPresenter(Presenter):
    def __init__(self, tablet, t) -> None:
        super().__init__(tablet, t)
        self.entries: list[InboxEntry] = []
        self.selected: InboxEntry | None = None
        self.edits: dict[str, str] = {}

    def enter(self) -> None:
        self.refresh()

    def refresh(self) -> list[InboxEntry]:
        self.entries = self.tablet.client.inbox()
        if self.selected is not None and self.selected.id not in {e.id for e in self.entries}:
            self.selected, self.edits = None, {}
        self.changed()
        return self.entries

    def reason(self, entry: InboxEntry) -> str:
        details = {k: v for k, v in entry.details.items() if k != "args"}
        return self.t.error(entry.code, entry.message, details)

    def summary(self, entry: InboxEntry) -> str:
        return f"[{self.t(f'inbox.kind.{entry.kind}')}] {entry.title}\n{self.reason(entry)}"

    def select(self, position: int) -> None:
        self.selected = self.entries[position]
        self.edits = editable(self.selected.details.get("args", {})) if self.selected.kind == "rejection" else {}
        self.note = None
        self.changed()

    @property
    def conflict_lines(self) -> list[str]:
        entry = self.selected
        if entry is None or entry.kind != "conflict":
            return []
        return [self.t("inbox.yours", value=entry.details.get("yours")),
                self.t("inbox.server", value=entry.details.get("server"))]

    def edit(self, name: str, text: str) -> None:
        if name not in self.edits:
            raise KeyError(f"{name} cannot be changed on this operation")
        self.edits[name] = text.strip()

    def _require(self, kind: str) -> InboxEntry:
        if self.selected is None or self.selected.kind != kind:
            raise JcerpError(f"choose a {kind} first", code="mobile.missing_field", field=self.t("screen.inbox"))
        return self.selected

    def resubmit(self) -> int | None:
        """Queue the selected rejection again with the clerk's corrections."""
        try:
            entry = self._require("rejection")
            original = editable(entry.details.get("args", {}))
            changes = {name: value for name, value in self.edits.items() if value != original.get(name)}
            seq = self.tablet.client.resubmit(entry.id, changes)
        except (JcerpError, ValueError) as error:
            self.fail(error)
            return None
        self.selected, self.edits = None, {}
        self.say("inbox.resubmitted", seq=seq)
        self.refresh()
        return seq

    def discard(self) -> bool:
        try:
            self.tablet.client.discard(self._require("rejection").id)
        except JcerpError as error:
            self.fail(error)
            return False
        self.selected, self.edits = None, {}
        self.say("inbox.discarded")
        self.refresh()
        return True

    def acknowledge(self) -> bool:
        try:
            self.tablet.client.acknowledge(self._require("conflict").id)
        except JcerpError as error:
            self.fail(error)
            return False
        self.selected = None
        self.say("inbox.acknowledged")
        self.refresh()
        return True
