"""The error tree: every failure the API reports has a stable code and HTTP status.

`ledger/api/errors.py` renders these as the contract's envelope
`{"error": {"code", "message", "details"}}`.
"""

from typing import Any


class LedgerError(Exception):
    """Base of every error the service reports to a caller."""

    code = "internal_error"
    http_status = 500
    message = "internal error"

    def __init__(self, message: str | None = None, **details: Any) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.details = details


class ValidationFailed(LedgerError):
    """The request body or query did not pass validation."""

    code = "validation_error"
    http_status = 422
    message = "the request is not valid"


class InvalidMetadata(ValidationFailed):
    """`metadata` is not a small flat object of strings, finite numbers and booleans."""

    code = "invalid_metadata"
    message = "the metadata is not valid"


class Unauthenticated(LedgerError):
    """No token, or a token that is malformed, expired, revoked or badly signed."""

    code = "unauthenticated"
    http_status = 401
    message = "a valid bearer token is required"


class Forbidden(LedgerError):
    """A valid caller without the right for this action."""

    code = "forbidden"
    http_status = 403
    message = "the caller may not do this"


class NotFound(LedgerError):
    """The resource does not exist, or belongs to an organisation the caller cannot see."""

    code = "not_found"
    http_status = 404
    message = "not found"


class IdempotencyConflict(LedgerError):
    """An order_id was reused with a different request body."""

    code = "idempotency_conflict"
    http_status = 409
    message = "this order_id was already used with a different request"


class InsufficientCredit(LedgerError):
    """A deduction asks for more than the organisation's spendable credit."""

    code = "insufficient_credit"
    http_status = 402
    message = "not enough credit"


class ReversalExceedsDeduction(LedgerError):
    """A reversal asks to return more than what is left of the deduction."""

    code = "reversal_exceeds_deduction"
    http_status = 422
    message = "the reversal exceeds what is left of the deduction"


class UnsupportedCurrency(LedgerError):
    """A currency the service (or the chosen gateway) does not serve."""

    code = "unsupported_currency"
    http_status = 422
    message = "this currency is not served"


class InvalidSignature(LedgerError):
    """A webhook whose signature, timestamp or body does not verify."""

    code = "invalid_signature"
    http_status = 400
    message = "the webhook signature is not valid"


class InvalidState(LedgerError):
    """The resource is not in a state that allows this action."""

    code = "invalid_state"
    http_status = 409
    message = "the resource is not in a state that allows this"


class RefundWindowExpired(LedgerError):
    """The top-up was paid longer ago than the refund window."""

    code = "refund_window_expired"
    http_status = 422
    message = "the refund window has passed"


class CreditConsumed(LedgerError):
    """Nothing of the top-up's credit is left to refund."""

    code = "credit_consumed"
    http_status = 422
    message = "the credit of this top-up has been consumed"


class AmountExceedsRefundable(LedgerError):
    """The refund asks for more than what is left of the top-up's credit."""

    code = "amount_exceeds_refundable"
    http_status = 422
    message = "the amount exceeds what can be refunded"


class RefundAlreadyPending(LedgerError):
    """The top-up already has a refund request pending."""

    code = "refund_already_pending"
    http_status = 409
    message = "a refund request is already pending for this top-up"


class NotRefundable(LedgerError):
    """The top-up is not in a state that can be refunded (unpaid, or bonus credit)."""

    code = "not_refundable"
    http_status = 422
    message = "this top-up cannot be refunded"


class ProviderUnavailable(LedgerError):
    """The gateway's keys are not configured, so it is off."""

    code = "provider_unavailable"
    http_status = 422
    message = "this payment provider is not available"


class GatewayError(LedgerError):
    """The payment gateway refused the request definitively.

    Raised by the gateway adapters (`ledger/gateways/`) with the gateway's own code and
    HTTP status; a caller it reaches gets 502 `gateway_error`.
    """

    code = "gateway_error"
    http_status = 502
    message = "the payment gateway refused the request"

    def __init__(
        self,
        message: str | None = None,
        *,
        gateway_code: str | None = None,
        gateway_status: int | None = None,
    ) -> None:
        super().__init__(message, **self._details(gateway_code))
        self.gateway_code = gateway_code
        self.gateway_status = gateway_status

    @staticmethod
    def _details(gateway_code: str | None) -> dict[str, Any]:
        return {"gateway_code": gateway_code}


class GatewayUnavailable(GatewayError):
    """No usable answer from the gateway (a timeout, a connection error, a 5xx): the
    outcome is unknown, so asking again with the same key is safe."""

    code = "gateway_unavailable"
    message = "the payment gateway did not answer"

    @staticmethod
    def _details(gateway_code: str | None) -> dict[str, Any]:
        return {}


class AmountTooSmall(LedgerError):
    """The amount is below what the gateway takes in this currency (checked before calling)."""

    code = "amount_too_small"
    http_status = 422
    message = "the amount is below the gateway's minimum for this currency"


class AmountTooLarge(LedgerError):
    """The amount is above what the gateway takes in this currency (checked before calling)."""

    code = "amount_too_large"
    http_status = 422
    message = "the amount is above the gateway's maximum for this currency"


class TopupDisputed(LedgerError):
    """The top-up's payment is disputed (a chargeback): its credit cannot be refunded."""

    code = "topup_disputed"
    http_status = 409
    message = "this top-up's payment is disputed"


class RefundAccountRequired(LedgerError):
    """A top-up paid into a virtual account is refunded to a bank account, which is missing."""

    code = "refund_account_required"
    http_status = 422
    message = "this top-up was paid by bank transfer: refund_account is required"


class HoldNotActive(LedgerError):
    """A capture or void of a hold that is captured, voided, or past its expiry."""

    code = "hold_not_active"
    http_status = 409
    message = "the hold is not active"


class CaptureExceedsHold(LedgerError):
    """A capture asks for more than what remains of the hold."""

    code = "capture_exceeds_hold"
    http_status = 422
    message = "the capture exceeds what remains of the hold"
