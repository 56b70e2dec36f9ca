"""Refunds: requests and their holds, operator decisions, gateway refunds, and refunds
made outside the service, one module per job:

- `requests`: ask, cancel, reject, and the reads;
- `approval`: an operator's approval;
- `gateway`: one attempt at a request's refund at the gateway, and applying its answer;
- `outside`: the gateway's record (webhooks), including refunds made in its dashboard;
- `resume`: finishing requests a timeout left `processing`;
- `locks`: the rows and wallets they lock, and the entries they post.

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

from ledger.services.refunds.approval import approve_refund
from ledger.services.refunds.gateway import apply_gateway_refund, gateway_idempotency_key
from ledger.services.refunds.locks import get_refund_request
from ledger.services.refunds.outside import (
    CANCELED_BY_GATEWAY,
    apply_refunded_total,
    sync_refunds,
)
from ledger.services.refunds.requests import (
    cancel_refund,
    list_external_refunds,
    list_refund_requests,
    reject_refund,
    request_refund,
)
from ledger.services.refunds.resume import ResumeResult, resume_refund, resume_refunds

__all__ = [
    "CANCELED_BY_GATEWAY",
    "ResumeResult",
    "apply_gateway_refund",
    "apply_refunded_total",
    "approve_refund",
    "cancel_refund",
    "gateway_idempotency_key",
    "get_refund_request",
    "list_external_refunds",
    "list_refund_requests",
    "reject_refund",
    "request_refund",
    "resume_refund",
    "resume_refunds",
    "sync_refunds",
]
