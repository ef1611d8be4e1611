"""Transfer view: the form's fields in scan order; everything else is in the presenter."""

from __future__ import annotations

from mobile.view import FormView


class TransferView(FormView):
    pass
