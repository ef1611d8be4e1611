"""Drives a real ``TabletApp`` headless (SDL2's offscreen driver, Mesa through EGL) for the UI
tests: presses buttons, types scans into the focused field as a keyboard-mode scanner does,
and saves a screenshot of each screen: in a temporary directory, or, with
``JCERP_SCREENSHOTS=docs/mobile``, over the pictures of docs/mobile.md (a test run leaves the
repository as it was unless asked to refresh them).

Importing this module prepares Kivy (offscreen, 1280×800, a private KIVY_HOME), so it must be
imported before anything else imports Kivy.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import pytest

from mobile.fonts import find_font
from mobile.headless import prepare

pytest.importorskip("kivy")
prepare(headless=True, kivy_home=tempfile.mkdtemp(prefix="jcerp-kivy-"), quiet=True)
SHOTS = Path(os.environ.get("JCERP_SCREENSHOTS") or tempfile.mkdtemp(prefix="jcerp-screens-"))
IN_CI = os.environ.get("CI", "").lower() == "true"


def require_cjk_font() -> None:
    """Skip (fail in CI) without a font that draws CJK Extension B."""
    choice = find_font()
    if choice is None or not choice.full:
        reason = "no CJK font with Extension B (Noto Sans CJK): run scripts/ensure-tablet-deps"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)


class Ui:
    """One TabletApp mounted on the process's single Kivy window, driven frame by frame."""

    def __init__(self, tablet: Any, language: str = "zh_CN") -> None:
        from kivy.base import EventLoop
        from kivy.core.window import Window

        from mobile.app import TabletApp

        require_cjk_font()
        EventLoop.ensure_window()
        self.window = Window
        self.loop = EventLoop
        self.app = TabletApp(tablet, language=language, background_sync=False)
        self.root = self.app.build()
        self.app.root = self.root
        Window.add_widget(self.root)
        self.app.on_start()
        self.frames(3)

    def frames(self, count: int = 2) -> None:
        for _ in range(count):
            self.loop.idle()

    def until(self, condition: Callable[[], bool], timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, "the screen did not get there in time"
            self.frames(1)
            time.sleep(0.01)

    @property
    def screen(self) -> Any:
        return self.app.manager.current_screen

    def press(self, button: Any) -> None:
        assert not button.disabled and button.opacity > 0, f"{button.text!r} is not pressable"
        button.dispatch("on_press")
        button.dispatch("on_release")
        self.frames(2)

    def back(self) -> None:
        from kivy.uix.button import Button

        [back] = [w for w in self.screen.walk() if isinstance(w, Button) and w.text in ("返回", "Back")]
        self.press(back)

    def tile(self, screen: str) -> Any:
        [tile] = [t for t in self.app.views["home"].ids.tiles.children if getattr(t, "screen", None) == screen]
        return tile

    def focused(self) -> Any:
        from kivy.uix.textinput import TextInput

        found = [w for w in self.screen.walk() if isinstance(w, TextInput) and w.focus]
        assert len(found) == 1, f"{len(found)} focused fields"
        return found[0]

    def focus_on(self, field: Any) -> bool:
        """Whether ``field`` (an ``ids`` proxy) is the one focused field of the screen."""
        self.frames(1)
        self.focused()
        return bool(field.focus)

    def scan(self, text: str) -> None:
        """What a keyboard-mode scanner does: type into whatever has the focus, then Enter."""
        self.frames(1)  # focus moves are scheduled for the next frame
        self.window.dispatch("on_textinput", text)
        self.window.dispatch("on_key_down", 13, 40, None, [])
        self.window.dispatch("on_key_up", 13, 40)
        self.frames(2)

    def shot(self, name: str) -> Path:
        self.frames(3)
        SHOTS.mkdir(parents=True, exist_ok=True)
        made = Path(self.window.screenshot(name=str(Path(tempfile.gettempdir()) / f"jcerp-{name}.png")))
        target = SHOTS / f"{name}.png"
        shutil.move(made, target)
        return target

    def close(self) -> None:
        self.app.dispatch("on_stop")  # also lets kv's `app` proxy forget this app
        self.window.remove_widget(self.root)
        self.frames(1)
