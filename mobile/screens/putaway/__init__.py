"""The put-away screen: screen.kv, its thin view (view.py) and its presenter (presenter.py)."""
