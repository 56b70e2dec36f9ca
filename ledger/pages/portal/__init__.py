"""The advertiser portal (/portal/): one organisation's pages, opened by a one-use link.

To add a page: a view on `bp` (in the module of its area) under `/<uuid:org_id>/...` that calls
`org_access(org_id, action)` (404 for any other organisation, 403 without the right)
and one service function, then renders a template that extends "portal/layout.html"
(which gets `organization` and `allowed(action)` from this module). A viewer sees no
form: templates ask `allowed(...)`, and the POST itself is refused by `org_access`.

Top-ups: Stripe through Checkout (the browser leaves for the session's page and comes
back to `checkout/success`), PortOne through its browser SDK on the `pay` page, which
then asks `confirm`. Both are credited only from the gateway's own record.
"""

from ledger.pages.portal import account, api_keys, history, topups
from ledger.pages.portal.blueprint import bp

# Importing the areas registers their views on `bp`.
__all__ = ["account", "api_keys", "bp", "history", "topups"]
