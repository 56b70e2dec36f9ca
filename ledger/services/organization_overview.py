"""One organisation as an operator sees it in the console: its balance and lots, and
the latest of its entries, top-ups, holds and refund requests."""

import uuid
from dataclasses import dataclass

from ledger.book import reports
from ledger.models import Organization
from ledger.services.holds import list_holds
from ledger.services.organizations import get_organization, organization_currency
from ledger.services.refunds import list_refund_requests
from ledger.services.topups import list_topups

# The console shows the latest of each list; the API pages through the rest.
RECENT = 50


@dataclass(frozen=True)
class OrganizationOverview:
    organization: Organization
    balance: reports.Balance
    entries: list[reports.EntryView]
    topups: list
    holds: list
    refund_requests: list


def organization_overview(org_id: uuid.UUID) -> OrganizationOverview:
    """The organisation with its balance and its latest activity (operators).

    Raises:
        NotFound: no such organisation.
    """
    currency = organization_currency(org_id)
    # The book's reads end their own transaction, so the ORM reads come after them.
    balance = reports.balance(org_id=org_id, currency=currency)
    entries = reports.list_entries(org_id=org_id, limit=RECENT).data
    return OrganizationOverview(
        organization=get_organization(org_id),
        balance=balance,
        entries=entries,
        topups=list_topups(org_id=org_id, limit=RECENT).data,
        holds=list_holds(org_id=org_id, limit=RECENT).data,
        refund_requests=list_refund_requests(org_id=org_id, limit=RECENT).data,
    )
