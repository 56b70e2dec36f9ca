"""Persistence models; every table the service has is imported here for migrations."""

from ledger.models.accounts import LedgerAccount
from ledger.models.base import Base
from ledger.models.disputes import Dispute
from ledger.models.events import DeliveryAttempt, Event, EventDelivery, WebhookEndpoint
from ledger.models.holds import Hold, HoldCapture, HoldLot
from ledger.models.idempotency import IdempotencyKey
from ledger.models.journal import JournalEntry, Posting
from ledger.models.lots import Lot, LotAllocation
from ledger.models.organizations import ApiKey, Organization
from ledger.models.page_sessions import PageSession
from ledger.models.refunds import ExternalRefund, RefundRequest
from ledger.models.topups import Topup
from ledger.models.verify_runs import VerifyRun
from ledger.models.webhooks import WebhookEvent

__all__ = [
    "ApiKey",
    "Base",
    "Dispute",
    "DeliveryAttempt",
    "Event",
    "EventDelivery",
    "ExternalRefund",
    "Hold",
    "HoldCapture",
    "HoldLot",
    "IdempotencyKey",
    "JournalEntry",
    "LedgerAccount",
    "Lot",
    "LotAllocation",
    "Organization",
    "PageSession",
    "Posting",
    "RefundRequest",
    "Topup",
    "VerifyRun",
    "WebhookEndpoint",
    "WebhookEvent",
]
