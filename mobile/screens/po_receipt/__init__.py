"""The receipt-against-order screen: screen.kv, its thin view (view.py) and its presenter (presenter.py)."""
