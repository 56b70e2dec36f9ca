"""Organisations' customers at a gateway: keeping our mapping true when the gateway changes.

Our mapping (`organizations.stripe_customer_id`, unique) is the identity at Stripe, not
the e-mail. When Stripe says a mapped customer changed, its record is fetched (the
event's body is not trusted) and:

- deleted (in the dashboard): the mapping is cleared, so the organisation's next top-up
  makes a new customer. Top-ups keep their own PaymentIntent ids, so payment history
  and refunds are unaffected.
- its metadata no longer names the organisation (edited in the dashboard): our
  organisation's id is put back on it, since our mapping is what decides.
- a customer we never mapped: nothing.
"""

import uuid

from sqlalchemy import select, text

from ledger.book import unit_of_work
from ledger.extensions import db
from ledger.gateways import get_gateway
from ledger.models import Organization


def customer_changed(*, provider: str, customer_id: str) -> None:
    """Bring our mapping (or the gateway's label) back in line with the gateway's customer."""
    with unit_of_work():  # ends before the gateway calls: no transaction stays open across them
        org_id = db.session.scalar(
            select(Organization.id).where(Organization.stripe_customer_id == customer_id)
        )
    if org_id is None:
        return
    gateway = get_gateway(provider)
    customer = gateway.fetch_customer(customer_id)
    if customer.deleted:
        _forget_customer(org_id, customer_id)
    elif customer.org_id != str(org_id):
        gateway.label_customer(customer_id, org_id)


def _forget_customer(org_id: uuid.UUID, customer_id: str) -> None:
    """Unmap a deleted customer, unless the organisation has moved on to another one."""
    with unit_of_work():
        db.session.execute(
            text(
                "UPDATE organizations SET stripe_customer_id = NULL "
                "WHERE id = :org_id AND stripe_customer_id = :customer"
            ),
            {"org_id": org_id, "customer": customer_id},
        )
