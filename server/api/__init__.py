"""HQ REST API (``/api/v1``): one file per module, each exposing ``CONTROLLERS``.

``discover_controllers`` collects them, so adding a module's API never edits a central list.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any


def discover_controllers() -> list[Any]:
    found: list[Any] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        found.extend(getattr(module, "CONTROLLERS", ()))
    return found
