"""Prepare Kivy before it is imported: no argument parsing, a window of a given size, and no
display needed (SDL2's offscreen video driver, rendering with Mesa through EGL).

Kivy reads its configuration when first imported, so these must run before any ``kivy``
import; ``prepare`` is idempotent and imports nothing of Kivy but its config. Used by
``jcerp mobile`` (``--headless``, or no display), the UI tests and bench/mobile.py.
"""

from __future__ import annotations

import os


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def prepare(*, headless: bool | None = None, size: tuple[int, int] = (1280, 800), kivy_home: str | None = None,
            quiet: bool = False) -> None:
    """Set Kivy's environment and window size. ``headless`` None: offscreen when there is no display."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")  # our own argparse owns the command line
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_CLIPBOARD", "sdl2")  # not xclip/xsel, which a tablet image does not have
    if kivy_home:
        os.environ.setdefault("KIVY_HOME", kivy_home)
    if quiet:
        os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
        os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    if headless or (headless is None and not has_display()):
        os.environ["SDL_VIDEODRIVER"] = "offscreen"
        os.environ.setdefault("KIVY_AUDIO", "")  # no sound device in a headless run
    from kivy.config import Config

    Config.set("graphics", "width", str(size[0]))
    Config.set("graphics", "height", str(size[1]))
    Config.set("graphics", "resizable", "1")
    # No multisample anti-aliasing: flat rectangles and text gain nothing from it, and it
    # multiplies the fill cost of every frame (a software renderer pays that on the CPU).
    Config.set("graphics", "multisamples", "0")
    Config.set("kivy", "exit_on_escape", "0")  # a stray Esc from a scanner must not close the app
    Config.set("input", "mouse", "mouse,disable_multitouch")
