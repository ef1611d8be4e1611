"""Work-order issue view: released work orders, the chosen one's components, the scan form."""

from __future__ import annotations

from mobile.view import DocumentFormView


class WoIssueView(DocumentFormView):
    pass
