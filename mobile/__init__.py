"""The Kivy tablet app for warehouse and shop-floor staff (``jcerp mobile``).

It runs on the device client (``edge_client``): every action is applied to the local replica
and queued for sync, so the app works offline. Layout: ``app.py`` wires screens; each screen is
a folder under ``screens/`` with its ``screen.kv``, a thin Kivy view and a plain-Python
presenter; ``tablet.py`` is what presenters call.

Invariants:
- Kivy is imported only by ``app.py``, ``view.py``, ``headless.py``, ``screens/*/view.py`` and
  inside ``fonts.register_default_font``; presenters, ``tablet``, ``i18n``, ``gs1`` and
  ``item_index`` never import it, so they are tested without a window.
- Business rules stay in ``erp/``: the app only builds mutation arguments and runs them through
  ``EdgeClient.run``, which applies the same handlers the server runs.
"""
