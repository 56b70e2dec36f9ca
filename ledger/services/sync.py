"""`flask ledger sync-topups`: nothing waits forever for a webhook.

Gateways stop retrying (PortOne after about 5.7 hours, Stripe after three days), and a
bank-transfer payer is not on our page to press "confirm". This asks the gateway about
every top-up still pending after `older_than` and settles it as the gateway says (the
same crediting path as `confirm` and webhooks), then processes again the inbox events
that failed or matched nothing. Both are idempotent under row locks, so running it twice,
or twice at once, credits nothing twice.

A gateway that does not answer is an outage to report (`unavailable`, and a non-zero
exit); a gateway that refuses to say (PortOne knows no payment the payer never opened) is
listed, and asked again next time.
"""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from ledger import clock
from ledger.book import unit_of_work
from ledger.domain import topups as topup_rules
from ledger.errors import GatewayError, GatewayUnavailable, ProviderUnavailable
from ledger.extensions import db
from ledger.models import Topup
from ledger.services import topups, webhooks


@dataclass(frozen=True)
class SyncResult:
    asked: int
    settled: dict[str, int]  # new status -> how many top-ups moved to it
    refused: tuple[str, ...]  # the gateway answered, but with an error
    unavailable: tuple[str, ...]  # the gateway did not answer
    events: webhooks.RetryResult


def sync_topups(*, older_than: timedelta) -> SyncResult:
    """Settle pending top-ups from the gateways' records; retry stuck webhook events."""
    with unit_of_work():  # a read of its own: no transaction stays open across the calls
        due = db.session.scalars(
            select(Topup.id)
            .where(
                Topup.status == topup_rules.PENDING,
                Topup.created_at <= clock.now() - older_than,
            )
            .order_by(Topup.created_at)
        ).all()
    settled: dict[str, int] = {}
    refused, unavailable = [], []
    for topup_id in due:
        try:
            status = topups.sync_topup(topup_id).status
        except GatewayUnavailable as e:
            unavailable.append(f"top-up {topup_id}: {e.message}")
            continue
        except GatewayError as e:
            refused.append(f"top-up {topup_id}: {e.gateway_code or e.message}")
            continue
        except ProviderUnavailable as e:  # its gateway is switched off (no keys)
            refused.append(f"top-up {topup_id}: {e.message}")
            continue
        if status != topup_rules.PENDING:
            settled[status] = settled.get(status, 0) + 1
    events = webhooks.retry_events(older_than=older_than)
    return SyncResult(
        len(due), settled, tuple(refused), tuple(unavailable) + events.unavailable, events
    )
