"""One folder per screen: ``screen.kv``, a thin Kivy view (``view.py``) and a plain-Python presenter (``presenter.py``)."""
