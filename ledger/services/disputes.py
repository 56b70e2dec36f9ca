"""Disputes (chargebacks) at the gateways, applied to the disputed top-up's credit.

A dispute event only says which dispute (Stripe) or which payment (PortOne) to look at:
`sync_disputes` fetches the gateway's record (never the event's body), then
`apply_dispute` lets `domain.disputes.decide` say what it means, under the same locks as
refunds (the top-up row, then the organisation's wallets):

- a new dispute freezes what is left of the top-up's lot, up to the disputed amount
  (`dispute_freeze`: available -> held, out of the lot);
- won: the frozen credit goes back to the lot (`dispute_release`), settling first any
  shortfall the lot owes;
- lost: the gateway keeps the disputed amount (`dispute_loss`): the frozen credit leaves
  `held` for the gateway's clearing account, and what had already been spent is booked
  to the platform's shortfall account, recorded as the dispute's `shortfall` and owed by
  the lot (credit that comes back to it later settles it first).

The unique key (org, provider, gateway dispute id) and the dispute row's lock make a
dispute freeze once and close once, whatever the order of webhooks.
"""

import uuid
from collections.abc import Sequence

from sqlalchemy import select, text

from ledger import clock
from ledger.book import (
    REFUND_SHORTFALL,
    EntryDraft,
    LotMovement,
    PostingDraft,
    Wallet,
    gateway_clearing,
    lock_wallets,
    owe_shortfall,
    platform_account,
    post_entry,
    record_event,
    settle_shortfalls,
    transfer,
    unit_of_work,
)
from ledger.book.reports import Page, newest_first
from ledger.domain import disputes as rules
from ledger.domain import refunds as refund_rules
from ledger.errors import NotFound
from ledger.extensions import db
from ledger.gateways import base as gw
from ledger.gateways import get_gateway
from ledger.models import Dispute, Topup
from ledger.services.refunds import locks as refund_locks

# Who a pending refund request's cancellation is attributed to when a dispute opened.
CANCELED_BY_DISPUTE = "system:dispute"

# Top-up states with a credited lot a dispute can freeze.
_CREDITED = frozenset({"paid", "partially_refunded", "refunded"})


def sync_disputes(topup_id: uuid.UUID, *, dispute_id: str | None = None) -> None:
    """Fetch the top-up's dispute(s) from the gateway and apply each.

    Raises:
        GatewayUnavailable, GatewayError: the gateway could not be asked, or refused.
    """
    with unit_of_work():  # ends before the gateway call: no transaction stays open across it
        topup = db.session.get_one(Topup, topup_id)
        payment_id, provider = topup.gateway_payment_id, topup.provider
    gateway = get_gateway(provider)
    found = gateway.fetch_disputes(payment_id=payment_id, dispute_id=dispute_id)
    for dispute in found:
        if dispute.payment_id == payment_id:  # the gateway's record must name this payment
            apply_dispute(topup_id, dispute)


def apply_dispute(topup_id: uuid.UUID, found: gw.GatewayDispute) -> Dispute | None:
    """Apply the gateway's record of one dispute to the top-up, once per move."""
    with unit_of_work():
        topup = refund_locks.lock_topup(topup_id)
        if topup.status not in _CREDITED or found.currency != topup.currency:
            return None  # nothing credited to freeze (a chargeback of nothing of ours)
        # The lock order of refunds (top-up, request, wallets), then the dispute row.
        pending = refund_locks.lock_open_request(topup.id)
        wallets = lock_wallets(topup.org_id, topup.currency, "available", "held")
        dispute: Dispute | None = db.session.scalars(
            select(Dispute)
            .where(
                Dispute.org_id == topup.org_id,
                Dispute.provider == topup.provider,
                Dispute.gateway_dispute_id == found.id,
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one_or_none()
        move = rules.decide(dispute.status if dispute else None, found.status)
        if not move.freeze and move.close is None:
            if dispute is not None:
                dispute.gateway_status = found.gateway_status
            return dispute
        if move.freeze and pending is not None and pending.status == refund_rules.PENDING:
            # Its hold is credit of the disputed top-up too: it is frozen with the rest.
            pending.status = refund_rules.move(pending.status, refund_rules.CANCELED)
            pending.canceled_by = CANCELED_BY_DISPUTE
            pending.failure_message = "the top-up's payment is disputed"
            refund_locks.release(pending, wallets)
        lot = _lot(topup.id)
        if dispute is None:  # new (`decide` freezes exactly what was not recorded)
            dispute = _freeze(topup, found, lot, wallets)
        dispute.gateway_status = found.gateway_status
        dispute.updated_at = clock.now()
        if move.close == rules.WON:
            _release(dispute, lot, wallets)
        elif move.close == rules.LOST:
            _lose(dispute, topup, lot, wallets)
    return dispute


def freeze_returned(lot_ids: Sequence[object], wallets: dict[str, Wallet]) -> None:
    """Credit that came back to the lot of a top-up with an open dispute (a failed refund's
    hold, a reversal) is frozen too, up to the disputed amount: the card network, not the
    organisation, decides where it goes. Call with the wallets locked, after the give-back."""
    open_disputes = db.session.execute(
        text(
            "SELECT d.id, l.id AS lot_id, l.remaining FROM disputes d "
            "JOIN lots l ON l.topup_id = d.topup_id "
            "WHERE l.id = ANY(:lot_ids) AND d.status = 'open' AND d.frozen < d.amount "
            "FOR UPDATE OF d"
        ),
        {"lot_ids": list(lot_ids)},
    ).all()
    for row in open_disputes:
        dispute = db.session.get_one(Dispute, row.id, populate_existing=True)
        more = rules.frozen_amount(dispute.amount - dispute.frozen, row.remaining)
        if more:
            _post_freeze(dispute, row.lot_id, more, wallets)
            dispute.frozen += more
            dispute.updated_at = clock.now()


def is_disputed(topup_id: uuid.UUID) -> bool:
    """Whether the top-up has a dispute that is open or was lost (its credit is not refundable)."""
    return (
        db.session.scalar(
            select(Dispute.id)
            .where(Dispute.topup_id == topup_id, Dispute.status.in_((rules.OPEN, rules.LOST)))
            .limit(1)
        )
        is not None
    )


def list_disputes(
    *,
    limit: int,
    cursor: str | None = None,
    status: str | None = None,
    org_id: uuid.UUID | None = None,
) -> Page:
    """Disputes newest first: one organisation's, or (operators) everyone's."""
    query = select(Dispute)
    if org_id is not None:
        query = query.where(Dispute.org_id == org_id)
    if status:
        query = query.where(Dispute.status == status)
    return newest_first(query, Dispute, limit=limit, cursor=cursor)


# Under the locks (top-up row, then wallets)


def _lot(topup_id: uuid.UUID):
    lot = db.session.execute(
        text("SELECT id, remaining, shortfall FROM lots WHERE topup_id = :topup_id"),
        {"topup_id": topup_id},
    ).one_or_none()
    if lot is None:
        raise NotFound("the top-up has no lot")
    return lot


def _freeze(topup: Topup, found: gw.GatewayDispute, lot, wallets: dict[str, Wallet]) -> Dispute:
    dispute = Dispute(
        id=uuid.uuid4(),
        org_id=topup.org_id,
        topup_id=topup.id,
        provider=topup.provider,
        gateway_dispute_id=found.id,
        amount=found.amount,
        currency=topup.currency,
        frozen=rules.frozen_amount(found.amount, lot.remaining),
        shortfall=0,
        status=rules.OPEN,
        reason=found.reason,
    )
    db.session.add(dispute)
    db.session.flush()
    if dispute.frozen:
        _post_freeze(dispute, lot.id, dispute.frozen, wallets)
    record_event(org_id=dispute.org_id, type="dispute.created", data=dispute)
    return dispute


def _post_freeze(
    dispute: Dispute, lot_id: uuid.UUID, amount: int, wallets: dict[str, Wallet], *, release=False
) -> None:
    """Freeze: `amount` leaves the lot and `available` for `held`. Release: the reverse."""
    available, held = wallets["available"].id, wallets["held"].id
    source, destination = (held, available) if release else (available, held)
    post_entry(
        EntryDraft(
            kind="dispute_release" if release else "dispute_freeze",
            org_id=dispute.org_id,
            currency=dispute.currency,
            postings=transfer(
                source=source, destination=destination, currency=dispute.currency, amount=amount
            ),
            description=f"{dispute.provider} dispute: credit {'released' if release else 'frozen'}",
            reference=dispute.gateway_dispute_id,
            topup_id=dispute.topup_id,
            lot_movements=(LotMovement(lot_id, amount if release else -amount),),
        ),
        wallets,
    )


def _close(dispute: Dispute, status: str) -> None:
    dispute.status = status
    dispute.closed_at = dispute.updated_at = clock.now()
    record_event(org_id=dispute.org_id, type="dispute.closed", data=dispute)


def _release(dispute: Dispute, lot, wallets: dict[str, Wallet]) -> None:
    """Won: the frozen credit returns to the lot (a shortfall the lot owes is settled first)."""
    _close(dispute, rules.WON)
    if not dispute.frozen:
        return
    _post_freeze(dispute, lot.id, dispute.frozen, wallets, release=True)
    settle_shortfalls(dispute.org_id, dispute.currency, [(lot.id, dispute.frozen)], wallets)


def _lose(dispute: Dispute, topup: Topup, lot, wallets: dict[str, Wallet]) -> None:
    """Lost: the disputed amount goes back to the gateway, from the frozen credit first."""
    _close(dispute, rules.LOST)
    split = rules.loss(dispute.amount, dispute.frozen)
    dispute.shortfall = split.shortfall
    postings = [
        PostingDraft(
            gateway_clearing(topup.provider, topup.currency), topup.currency, split.to_gateway
        )
    ]
    if split.from_frozen:
        postings.append(PostingDraft(wallets["held"].id, topup.currency, -split.from_frozen))
    if split.shortfall:
        postings.append(
            PostingDraft(
                platform_account(REFUND_SHORTFALL, topup.currency), topup.currency, -split.shortfall
            )
        )
        owe_shortfall(lot.id, split.shortfall)
    post_entry(
        EntryDraft(
            kind="dispute_loss",
            org_id=topup.org_id,
            currency=topup.currency,
            postings=tuple(postings),
            description=f"{topup.provider} dispute lost",
            reference=dispute.gateway_dispute_id,
            topup_id=topup.id,
        ),
        wallets,
    )
