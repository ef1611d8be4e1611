"""What every screen's presenter shares: a listener, translated notes, and scan-driven forms.

A presenter holds one screen's state and calls the device (``mobile.tablet.Tablet``); its
view only shows that state and forwards taps and scans. Presenters never import Kivy, so they
are tested without a window.

Scanners type like a keyboard and end with Enter. ``Form.scan(field, text)`` is what a view
calls when a field gets Enter: it fills the field (resolving items and locations in the local
replica) and answers the field that should take the focus next, or ``None`` when the form is
complete. A refused scan leaves the focus where it was, with the reason in ``note``.

Invariants:
- A note is kept as a translation key or an error code with its values, and rendered in the
  current language when shown, so switching language re-renders what is on screen.
- One listener per presenter (its view), set with ``bind``; there is no class-level registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from mobile.i18n import Translator
from mobile.tablet import Tablet
from sync.errors import JcerpError


class MobileError(JcerpError):
    """A form the clerk has to fix before anything is saved."""

    code = "mobile.error"


class MissingField(MobileError):
    code = "mobile.missing_field"


class BadQuantity(MobileError):
    code = "mobile.bad_quantity"


class BadCount(MobileError):
    code = "mobile.bad_count"


class BadDate(MobileError):
    code = "mobile.bad_date"


class NotSignedIn(MobileError):
    code = "mobile.not_signed_in"


@dataclass(frozen=True)
class Note:
    """A line for the clerk: ``kind`` is info, ok or error; ``key`` a STRINGS key or an error code."""

    kind: str
    key: str
    values: dict[str, Any] = field(default_factory=dict)
    message: str = ""  # the English message of an error, shown when its code has no translation

    def render(self, t: Translator) -> str:
        if self.kind == "error":
            return t.error(self.key, self.message, self.values)
        return t(self.key, **self.values)


def error_note(error: Exception) -> Note:
    code = getattr(error, "code", "mobile.error")
    message = getattr(error, "message", str(error))
    details = dict(getattr(error, "details", {}) or {})
    return Note("error", code, details, message)


class Presenter:
    """Base of every screen's presenter."""

    def __init__(self, tablet: Tablet, t: Translator) -> None:
        self.tablet = tablet
        self.t = t
        self.note: Note | None = None
        self.busy = False
        self._listener: Callable[[], None] | None = None
        self.navigate: Callable[[str], None] = lambda screen: None  # set by the app

    def bind(self, listener: Callable[[], None]) -> None:
        self._listener = listener

    def changed(self) -> None:
        if self._listener is not None:
            self._listener()

    @property
    def note_text(self) -> str:
        return self.note.render(self.t) if self.note else ""

    def enter(self) -> None:
        """The screen is being shown: re-read what may have changed meanwhile."""

    def fail(self, error: Exception) -> None:
        self.note = error_note(error)
        self.changed()

    def say(self, key: str, kind: str = "ok", **values: Any) -> None:
        self.note = Note(kind, key, values)
        self.changed()


def parse_quantity(text: str, *, allow_zero: bool = False) -> Decimal:
    try:
        value = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        raise (BadCount if allow_zero else BadQuantity)(f"{text!r} is not a number") from None
    if not value.is_finite() or value < 0 or (value == 0 and not allow_zero):
        raise (BadCount if allow_zero else BadQuantity)(f"{text!r} is not allowed here")
    return value


class Form(Presenter):
    """A presenter whose screen is a column of fields filled by scanning or typing."""

    FIELDS: tuple[str, ...] = ()  # in screen order
    REQUIRED: tuple[str, ...] = ()
    STOPS: tuple[str, ...] | None = None  # fields Enter moves through (default: all); others take a tap
    LABELS: dict[str, str] = {}  # field -> STRINGS key of its label

    def __init__(self, tablet: Tablet, t: Translator) -> None:
        super().__init__(tablet, t)
        self.values: dict[str, str] = {name: "" for name in self.FIELDS}
        self.focus: str | None = self.FIELDS[0] if self.FIELDS else None

    def next_after(self, name: str) -> str | None:
        """Where Enter in ``name`` goes: the next empty stop after it, else the first empty
        required field anywhere, else None (the form is complete and can be saved)."""
        stops = self.STOPS if self.STOPS is not None else self.FIELDS
        position = self.FIELDS.index(name)
        for candidate in stops:
            if self.FIELDS.index(candidate) > position and not self.values[candidate]:
                return candidate
        return next((field for field in self.REQUIRED if not self.values[field]), None)

    def scan(self, name: str, text: str) -> str | None:
        """A scan or Enter in field ``name``: fill it, and answer the next field to focus."""
        if text.strip() and text.strip() == self.values[name]:  # Enter on a field already filled
            self.focus = self.next_after(name)
            return self.focus
        try:
            self.fill(name, text)
        except (JcerpError, ValueError) as error:
            self.focus = name
            self.fail(error)
            return name
        self.focus = self.next_after(name)
        self.changed()
        return self.focus

    def fill(self, name: str, text: str) -> None:
        """Set one field from what was typed; subclasses resolve items and locations."""
        self.values[name] = text.strip()

    def require(self, *names: str) -> None:
        for name in names:
            if not self.values[name]:
                self.focus = name
                raise MissingField(f"{name} is empty", field=self.t(self.LABELS.get(name, name)))

    def clear(self, keep: tuple[str, ...] = ()) -> None:
        for name in self.FIELDS:
            if name not in keep:
                self.values[name] = ""
        self.focus = next((name for name in self.FIELDS if not self.values[name]), None)
        self.changed()
