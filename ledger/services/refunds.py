"""Refunds: requests and their holds, operator decisions, gateway refunds, and refunds
made outside the service.

Design overview
---------------
- `request_refund` checks the policy (`domain.refunds`) under the wallet lock and, in
  the same entry, moves the amount out of the top-up's lot and the `available` wallet
  into `held` (`refund_hold`). `cancel_refund` and `reject_refund` move it back to the
  same lot (`refund_release`).
- `approve_refund` is deliberately several short transactions around the gateway call,
  so no lock is held while the gateway thinks: mark the request `processing` and
  commit; call the gateway's refund with a key derived from the request (Stripe's
  idempotency key) and what we believe is still refundable (PortOne's
  `currentCancellableAmount`); then apply the answer. Success books `refund` (held to
  gateway clearing) and updates the top-up; a definitive refusal fails the request
  and releases the hold; no answer leaves it `processing` for `resume_refunds`, which
  asks again with the same key and the same refundable amount, so the gateway refunds
  at most once.
- Webhooks (`sync_refunds`) fetch the gateway's record and let `domain.refunds.reconcile`
  settle the refund we are making, or record a refund made outside the service
  (`external_refund`): what is left of the lot is taken back, the spent part is booked
  to the refund shortfall account and listed for operators.

Locks are taken in one order everywhere: the top-up row, then its refund request
row, then the organisation's wallets (`lock_wallets`), as top-up crediting does.
Settling happens only on the processing -> succeeded transition under those locks,
so an approve answer, a webhook and `resume_refunds` book one refund entry between them.
"""

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, text

from ledger import clock
from ledger.domain import refunds as rules
from ledger.domain import topups as topup_rules
from ledger.domain.entries import EntryDraft, LotMovement, PostingDraft, transfer
from ledger.errors import InvalidState, NotFound
from ledger.extensions import db
from ledger.gateways import base as gw
from ledger.gateways import get_gateway
from ledger.models import ExternalRefund, RefundRequest, Topup
from ledger.services import disputes, lots
from ledger.services.accounts import REFUND_SHORTFALL, gateway_clearing, platform_account
from ledger.services.posting import post_entry
from ledger.services.reports import Page, newest_first
from ledger.services.transaction import Wallet, atomic, lock_wallets

# Who a request's cancellation is attributed to when the gateway's record forced it.
CANCELED_BY_GATEWAY = "system:outside-refund"


def gateway_idempotency_key(request_id: uuid.UUID) -> str:
    """The same for every attempt at one request's refund, so retries never refund twice."""
    return f"refund-request-{request_id}"


# Requests


def request_refund(
    *,
    org_id: uuid.UUID,
    topup_id: uuid.UUID,
    reason: str,
    requested_by: str,
    amount: int | None = None,
    refund_account: dict[str, str] | None = None,
) -> RefundRequest:
    """Ask for (part of) a top-up back; the amount is held at once.

    Raises:
        NotFound: no such top-up in this organisation.
        NotRefundable, RefundAlreadyPending, RefundWindowExpired, CreditConsumed,
        AmountExceedsRefundable, TopupDisputed, RefundAccountRequired: the policy
        refuses (`domain.refunds.amount_to_refund`).
    """
    with atomic():
        topup = _lock_topup(topup_id, org_id=org_id)
        has_open_request = _lock_open_request(topup.id) is not None
        wallets = lock_wallets(org_id, topup.currency, "available", "held")
        lot = _topup_lot(topup.id)
        facts = rules.RefundableTopup(
            status=topup.status,
            paid_at=topup.paid_at,
            lot_kind=lot.kind if lot else None,
            lot_remaining=lot.remaining if lot else 0,
            has_open_request=has_open_request,
            disputed=disputes.is_disputed(topup.id),
            bank_transfer=topup.bank_transfer,
            has_refund_account=refund_account is not None,
        )
        held = rules.amount_to_refund(
            facts, amount, clock.now(), current_app.config["REFUND_WINDOW_DAYS"]
        )
        request = RefundRequest(
            id=uuid.uuid4(),
            org_id=org_id,
            topup_id=topup.id,
            amount=held,
            currency=topup.currency,
            status=rules.PENDING,
            reason=reason,
            requested_by=requested_by,
            # Only a bank-transfer refund needs one; it is not kept for any other.
            refund_account=refund_account if topup.bank_transfer else None,
        )
        db.session.add(request)
        db.session.flush()
        _move_hold(request, lot.id, wallets, release=False)
    return request


def cancel_refund(*, org_id: uuid.UUID, request_id: uuid.UUID, canceled_by: str) -> RefundRequest:
    """The advertiser withdraws a pending request; the hold returns to the lot."""
    with atomic():
        request, _ = _lock_request(request_id, org_id=org_id)
        request.status = rules.move(request.status, rules.CANCELED)
        request.canceled_by = canceled_by
        _release(request, _lock_wallets(request))
    return request


def reject_refund(*, request_id: uuid.UUID, decided_by: str, reason: str) -> RefundRequest:
    """An operator refuses a pending request; the hold returns to the lot."""
    with atomic():
        request, _ = _lock_request(request_id)
        request.status = rules.move(request.status, rules.REJECTED)
        _decide(request, decided_by, reason)
        _release(request, _lock_wallets(request))
    return request


# Approval and the gateway


@dataclass(frozen=True)
class _RefundCall:
    """What one gateway refund attempt needs, read before the transaction ends."""

    request_id: uuid.UUID
    topup_id: uuid.UUID
    provider: str
    payment: gw.PaymentRef
    amount: int
    currency: str
    reason: str
    refundable_before: int
    gateway_refund_id: str | None
    refund_account: gw.RefundAccount | None


def approve_refund(
    *, request_id: uuid.UUID, decided_by: str, note: str | None = None
) -> RefundRequest:
    """An operator approves: refund through the gateway, then book it.

    Returns the request: `succeeded`, `failed` (the gateway refused; hold released) or
    `processing` (no answer yet; a webhook or `resume_refunds` finishes it).

    Raises:
        NotFound: no such request.
        InvalidState: the request is not pending.
    """
    with atomic():
        request, topup = _lock_request(request_id)
        request.status = rules.move(request.status, rules.PROCESSING)
        _decide(request, decided_by, note)
        # Our record of what the gateway can still refund; if the gateway disagrees
        # (a refund we have not booked yet), PortOne refuses instead of refunding twice.
        request.gateway_refundable_before = topup.amount - topup.refunded_amount
        call = _refund_call(request, topup)
    return _refund_at_gateway(call)


def _refund_at_gateway(call: _RefundCall) -> RefundRequest:
    """Call the gateway's refund (no transaction open) and apply its answer."""
    gateway = get_gateway(call.provider)
    try:
        refund = gateway.refund(
            payment_id=call.payment.payment_id,
            amount=call.amount,
            currency=call.currency,
            idempotency_key=gateway_idempotency_key(call.request_id),
            reason=call.reason,
            refundable_before=call.refundable_before,
            refund_account=call.refund_account,
        )
    except gw.GatewayUnavailable:
        return _get_request(call.request_id)
    except gw.GatewayError as e:
        # A refusal (Stripe's, or the PG's behind PortOne) is an answer: fail, release.
        return _fail(call.request_id, e.code, e.message)
    return apply_gateway_refund(call.request_id, refund)


def apply_gateway_refund(request_id: uuid.UUID, refund: gw.GatewayRefund) -> RefundRequest:
    """Apply the gateway's record of a request's refund: a processing request settles or
    fails; a succeeded one whose refund failed afterwards gives the credit back."""
    with atomic():
        request, topup = _lock_request(request_id)
        if request.status == rules.SUCCEEDED and refund.status == gw.REFUND_FAILED:
            _undo(request, topup, _lock_wallets(request), refund)
            return request
        if request.status != rules.PROCESSING:
            return request  # settled or failed already (by a webhook, or an earlier answer)
        if refund.status == gw.REFUND_SUCCEEDED:
            _settle(request, topup, _lock_wallets(request), refund.id)
        elif refund.status == gw.REFUND_FAILED:
            _fail_locked(
                request, refund.failure_code, refund.failure_message or "the gateway refund failed"
            )
        else:
            request.gateway_refund_id = refund.id
            request.updated_at = clock.now()
    return request


def _fail(request_id: uuid.UUID, code: str | None, message: str) -> RefundRequest:
    with atomic():
        request, _ = _lock_request(request_id)
        if request.status == rules.PROCESSING:
            _fail_locked(request, code, message)
    return request


def _fail_locked(request: RefundRequest, code: str | None, message: str) -> None:
    request.status = rules.move(request.status, rules.FAILED)
    request.failure_code = code
    request.failure_message = message
    _release(request, _lock_wallets(request))


@dataclass(frozen=True)
class ResumeResult:
    succeeded: int = 0
    failed: int = 0
    processing: int = 0
    errors: tuple[str, ...] = ()


def resume_refunds(*, older_than: timedelta) -> ResumeResult:
    """Finish the requests left `processing` for longer than `older_than`.

    The age keeps this from racing an approve whose gateway call is still under way.
    """
    due = db.session.scalars(
        select(RefundRequest.id)
        .where(
            RefundRequest.status == rules.PROCESSING,
            RefundRequest.updated_at <= clock.now() - older_than,
        )
        .order_by(RefundRequest.updated_at)
    ).all()
    db.session.rollback()
    counts = {rules.SUCCEEDED: 0, rules.FAILED: 0, rules.PROCESSING: 0}
    errors = []
    for request_id in due:
        try:
            counts[resume_refund(request_id).status] += 1
        except gw.GatewayError as e:
            errors.append(f"{request_id}: {e.message}")
    return ResumeResult(
        counts[rules.SUCCEEDED], counts[rules.FAILED], counts[rules.PROCESSING], tuple(errors)
    )


def resume_refund(request_id: uuid.UUID) -> RefundRequest:
    """Ask the gateway again about a `processing` request and finish it if it can.

    A known gateway refund is looked up. Otherwise the gateway's total for the payment
    says whether the first attempt went through (then it is settled); if not, the
    refund is asked again with the same key and refundable amount, which the gateway
    cannot turn into a second refund.
    """
    request = _get_request(request_id)
    if request.status != rules.PROCESSING:
        return request
    call = _refund_call(request, db.session.get(Topup, request.topup_id))
    db.session.rollback()
    gateway = get_gateway(call.provider)
    try:
        if call.gateway_refund_id:
            return apply_gateway_refund(request_id, _fetch_refund(gateway, call))
        apply_refunded_total(call.topup_id, gateway.fetch_payment(call.payment).refunded_amount)
    except gw.GatewayUnavailable:
        return _get_request(request_id)
    settled = _get_request(request_id)
    if settled.status != rules.PROCESSING:
        return settled
    db.session.rollback()
    return _refund_at_gateway(call)


def _fetch_refund(gateway: gw.PaymentGateway, call: _RefundCall) -> gw.GatewayRefund:
    return gateway.fetch_refund(call.gateway_refund_id, payment_id=call.payment.payment_id)


def _refund_call(request: RefundRequest, topup: Topup) -> _RefundCall:
    return _RefundCall(
        request_id=request.id,
        topup_id=topup.id,
        provider=topup.provider,
        payment=gw.PaymentRef(topup.gateway_payment_id, topup.gateway_checkout_id),
        amount=request.amount,
        currency=request.currency,
        reason=request.reason,
        refundable_before=request.gateway_refundable_before,
        gateway_refund_id=request.gateway_refund_id,
        refund_account=gw.RefundAccount(**request.refund_account)
        if request.refund_account
        else None,
    )


# The gateway's record: webhooks


def sync_refunds(topup_id: uuid.UUID, *, refund_id: str | None = None) -> None:
    """Bring the top-up's refunds in line with the gateway's record of them: the refund
    being made, a refund of ours an event names (it may have failed after succeeding),
    then the payment's total.

    Raises:
        gateways.base.GatewayError: the gateway could not be asked (the webhook is retried).
    """
    topup = db.session.get(Topup, topup_id)
    request = _open_request(topup_id)
    processing = request if request and request.status == rules.PROCESSING else None
    calls = [_refund_call(processing, topup)] if processing else []
    named = _succeeded_request(topup_id, refund_id)
    if named is not None:
        calls.append(_refund_call(named, topup))
    ref = gw.PaymentRef(topup.gateway_payment_id, topup.gateway_checkout_id)
    gateway = get_gateway(topup.provider)
    db.session.rollback()  # no transaction stays open across the gateway calls
    for call in calls:
        if call.gateway_refund_id:
            apply_gateway_refund(call.request_id, _fetch_refund(gateway, call))
    apply_refunded_total(topup_id, gateway.fetch_payment(ref).refunded_amount)


def _succeeded_request(topup_id: uuid.UUID, refund_id: str | None) -> RefundRequest | None:
    """The top-up's succeeded request whose gateway refund is `refund_id`, if any."""
    if not refund_id:
        return None
    return db.session.scalar(
        select(RefundRequest).where(
            RefundRequest.topup_id == topup_id,
            RefundRequest.gateway_refund_id == refund_id,
            RefundRequest.status == rules.SUCCEEDED,
        )
    )


def apply_refunded_total(topup_id: uuid.UUID, gateway_refunded: int) -> None:
    """Book what the gateway's total refunded shows beyond our records (see `reconcile`)."""
    with atomic():
        topup = _lock_topup(topup_id)
        if topup.status not in rules.REFUNDABLE_TOPUP_STATES:
            return  # not credited (nothing to take back), or refunded in full already
        request = _lock_open_request(topup.id)
        wallets = lock_wallets(topup.org_id, topup.currency, "available", "held")
        lot = _topup_lot(topup.id)
        processing = request if request and request.status == rules.PROCESSING else None
        pending = request if request and request.status == rules.PENDING else None
        decision = rules.reconcile(
            rules.RefundState(
                gateway_refunded=gateway_refunded,
                recorded=topup.refunded_amount,
                lot_remaining=lot.remaining,
                processing_amount=processing.amount if processing else 0,
                processing_refund_known=bool(processing and processing.gateway_refund_id),
                pending_amount=pending.amount if pending else 0,
            )
        )
        if decision.settle_processing:
            _settle(processing, topup, wallets, None)
        if decision.cancel_pending:
            pending.status = rules.move(pending.status, rules.CANCELED)
            pending.canceled_by = CANCELED_BY_GATEWAY
            pending.failure_message = "the gateway refunded this top-up outside the service"
            _release(pending, wallets)
        if decision.outside:
            _record_outside_refund(topup, lot.id, wallets, decision, gateway_refunded)


def _record_outside_refund(
    topup: Topup,
    lot_id: uuid.UUID,
    wallets: dict[str, Wallet],
    decision: rules.Reconciliation,
    gateway_refunded: int,
) -> None:
    """One entry: the gateway's money out of clearing, from the wallet and the shortfall."""
    currency = topup.currency
    postings = [
        PostingDraft(gateway_clearing(topup.provider, currency), currency, decision.outside)
    ]
    if decision.taken_back:
        postings.append(PostingDraft(wallets["available"].id, currency, -decision.taken_back))
    if decision.shortfall:
        postings.append(
            PostingDraft(
                platform_account(REFUND_SHORTFALL, currency), currency, -decision.shortfall
            )
        )
    posted = post_entry(
        EntryDraft(
            kind="external_refund",
            org_id=topup.org_id,
            currency=currency,
            postings=tuple(postings),
            description=f"refunded outside the service at {topup.provider}",
            reference=topup.gateway_payment_id,
            topup_id=topup.id,
            lot_movements=(
                (LotMovement(lot_id, -decision.taken_back),) if decision.taken_back else ()
            ),
        ),
        wallets,
    )
    db.session.add(
        ExternalRefund(
            org_id=topup.org_id,
            topup_id=topup.id,
            provider=topup.provider,
            amount=decision.outside,
            currency=currency,
            taken_back=decision.taken_back,
            shortfall=decision.shortfall,
            gateway_refunded=gateway_refunded,
            entry_id=posted.id,
        )
    )
    if decision.shortfall:
        lots.owe_shortfall(lot_id, decision.shortfall)
    _add_refunded(topup, decision.outside)


# Reads


def get_refund_request(*, request_id: uuid.UUID, org_id: uuid.UUID | None = None) -> RefundRequest:
    """One request; with `org_id`, only that organisation's."""
    query = select(RefundRequest).where(RefundRequest.id == request_id)
    if org_id is not None:
        query = query.where(RefundRequest.org_id == org_id)
    request = db.session.scalar(query)
    if request is None:
        raise NotFound("refund request not found")
    return request


def list_refund_requests(
    *,
    limit: int,
    cursor: str | None = None,
    status: str | None = None,
    org_id: uuid.UUID | None = None,
) -> Page:
    """Refund requests newest first: one organisation's, or (operators) everyone's."""
    query = select(RefundRequest)
    if org_id is not None:
        query = query.where(RefundRequest.org_id == org_id)
    if status:
        query = query.where(RefundRequest.status == status)
    return newest_first(query, RefundRequest, limit=limit, cursor=cursor)


def list_external_refunds(
    *, limit: int, cursor: str | None = None, with_shortfall: bool = False
) -> Page:
    """Refunds made outside the service, newest first (operators)."""
    query = select(ExternalRefund)
    if with_shortfall:
        query = query.where(ExternalRefund.shortfall > 0)
    return newest_first(query, ExternalRefund, limit=limit, cursor=cursor)


# Under the locks


def _lock_topup(topup_id: uuid.UUID, org_id: uuid.UUID | None = None) -> Topup:
    query = select(Topup).where(Topup.id == topup_id)
    if org_id is not None:
        query = query.where(Topup.org_id == org_id)
    topup = db.session.scalar(query.with_for_update().execution_options(populate_existing=True))
    if topup is None:
        raise NotFound("top-up not found")
    return topup


def _lock_request(
    request_id: uuid.UUID, org_id: uuid.UUID | None = None
) -> tuple[RefundRequest, Topup]:
    """Lock the request's top-up, then the request (the lock order of this module)."""
    topup_id = get_refund_request(request_id=request_id, org_id=org_id).topup_id
    topup = _lock_topup(topup_id)
    request = db.session.scalar(
        select(RefundRequest)
        .where(RefundRequest.id == request_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return request, topup


def _open_request(topup_id: uuid.UUID) -> RefundRequest | None:
    return db.session.scalar(
        select(RefundRequest).where(
            RefundRequest.topup_id == topup_id, RefundRequest.status.in_(rules.OPEN)
        )
    )


def _lock_open_request(topup_id: uuid.UUID) -> RefundRequest | None:
    """The top-up's open request, locked (call with the top-up locked)."""
    return db.session.scalar(
        select(RefundRequest)
        .where(RefundRequest.topup_id == topup_id, RefundRequest.status.in_(rules.OPEN))
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _get_request(request_id: uuid.UUID) -> RefundRequest:
    return db.session.scalar(
        select(RefundRequest)
        .where(RefundRequest.id == request_id)
        .execution_options(populate_existing=True)
    )


def _topup_lot(topup_id: uuid.UUID) -> Any:
    """The lot a paid top-up made (call with the available wallet locked)."""
    return db.session.execute(
        text("SELECT id, kind, remaining FROM lots WHERE topup_id = :topup_id"),
        {"topup_id": topup_id},
    ).one_or_none()


def _decide(request: RefundRequest, decided_by: str, note: str | None) -> None:
    request.decided_by = decided_by
    request.decided_at = clock.now()
    request.decision_note = note
    request.updated_at = request.decided_at


def _move_hold(
    request: RefundRequest, lot_id: uuid.UUID, wallets: dict[str, Wallet], *, release: bool
) -> None:
    """Hold: the amount leaves the lot and `available` for `held`. Release: the reverse."""
    available, held = wallets["available"], wallets["held"]
    source, destination = (held, available) if release else (available, held)
    post_entry(
        EntryDraft(
            kind="refund_release" if release else "refund_hold",
            org_id=request.org_id,
            currency=request.currency,
            postings=transfer(
                source=source.id,
                destination=destination.id,
                currency=request.currency,
                amount=request.amount,
            ),
            description=f"refund request {request.status}",
            reference=str(request.id),
            topup_id=request.topup_id,
            refund_request_id=request.id,
            lot_movements=(LotMovement(lot_id, request.amount if release else -request.amount),),
        ),
        wallets,
    )


def _lock_wallets(request: RefundRequest) -> dict[str, Wallet]:
    return lock_wallets(request.org_id, request.currency, "available", "held")


def _release(request: RefundRequest, wallets: dict[str, Wallet]) -> None:
    """Give a closed request's hold back to its top-up's lot (top-up and request locked);
    a shortfall the lot owes is settled first."""
    lot_id = _topup_lot(request.topup_id).id
    _move_hold(request, lot_id, wallets, release=True)
    lots.settle_shortfalls(request.org_id, request.currency, [(lot_id, request.amount)], wallets)
    request.updated_at = clock.now()


def _settle(
    request: RefundRequest,
    topup: Topup,
    wallets: dict[str, Wallet],
    gateway_refund_id: str | None,
) -> None:
    """The gateway refunded the request: the held amount goes to gateway clearing."""
    request.status = rules.move(request.status, rules.SUCCEEDED)
    request.gateway_refund_id = request.gateway_refund_id or gateway_refund_id
    request.completed_at = request.updated_at = clock.now()
    post_entry(
        EntryDraft(
            kind="refund",
            org_id=request.org_id,
            currency=request.currency,
            postings=transfer(
                source=wallets["held"].id,
                destination=gateway_clearing(topup.provider, request.currency),
                currency=request.currency,
                amount=request.amount,
            ),
            description=f"{topup.provider} refund",
            reference=request.gateway_refund_id,
            topup_id=topup.id,
            refund_request_id=request.id,
        ),
        wallets,
    )
    _add_refunded(topup, request.amount)


def _undo(
    request: RefundRequest, topup: Topup, wallets: dict[str, Wallet], refund: gw.GatewayRefund
) -> None:
    """The gateway's refund failed after it had succeeded (the money never reached the
    card): the request fails, the credit goes back to the same lot (a shortfall it owes is
    settled first), and the top-up's refunded amount comes back down."""
    request.status = rules.move(request.status, rules.FAILED)
    request.failure_code = refund.failure_code
    request.failure_message = refund.failure_message or "the gateway refund failed"
    request.updated_at = clock.now()
    lot_id = _topup_lot(topup.id).id
    post_entry(
        EntryDraft(
            kind="refund_failure",
            org_id=request.org_id,
            currency=request.currency,
            postings=transfer(
                source=gateway_clearing(topup.provider, request.currency),
                destination=wallets["available"].id,
                currency=request.currency,
                amount=request.amount,
            ),
            description=f"{topup.provider} refund failed after it had succeeded",
            reference=refund.id,
            topup_id=topup.id,
            refund_request_id=request.id,
            lot_movements=(LotMovement(lot_id, request.amount),),
        ),
        wallets,
    )
    lots.settle_shortfalls(request.org_id, request.currency, [(lot_id, request.amount)], wallets)
    topup.refunded_amount -= request.amount
    topup.status = topup_rules.status_when_credited(topup.amount, topup.refunded_amount)
    topup.updated_at = clock.now()


def _add_refunded(topup: Topup, amount: int) -> None:
    new_status = topup_rules.status_after_refund(topup.amount, topup.refunded_amount + amount)
    if not topup_rules.can_move(topup.status, new_status):
        raise InvalidState(f"a {topup.status} top-up cannot become {new_status}")
    topup.refunded_amount += amount
    topup.status = new_status
    topup.updated_at = clock.now()
