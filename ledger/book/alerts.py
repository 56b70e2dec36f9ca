"""`balance.low`: decided by the posting engine under the wallet lock, once per crossing.

The organisation's threshold and the wallet's alert state (`low_balance_alerted`) are
read with the wallet's row lock, so of concurrent changes crossing together exactly one
sees the crossing: it sends the alert and marks the wallet alerted in its transaction;
the next ones find it marked. The mark is cleared once the balance is back at or above
the threshold (or the threshold is turned off), which re-arms the alert.

The crossing is decided on the wallet's balance. `data` is the balance as
`GET .../balance` shows it, read in the same transaction.
"""

import dataclasses
from collections.abc import Iterable

from sqlalchemy import text

from ledger.book.outbox import record_event
from ledger.book.reports import read_balance
from ledger.book.transaction import Wallet
from ledger.domain.events import check_low_balance
from ledger.extensions import db


def settle_low_balance(wallets: Iterable[Wallet]) -> None:
    """After a change to these locked wallets: send `balance.low` on a crossing, re-arm
    on a recovery. Costs nothing for a wallet without a threshold or an alert out."""
    for wallet in wallets:
        if wallet.org_id is None or (
            wallet.low_balance_threshold is None and not wallet.low_balance_alerted
        ):
            continue
        check = check_low_balance(
            available=wallet.balance,
            threshold=wallet.low_balance_threshold,
            alerted=wallet.low_balance_alerted,
        )
        if check.alerted != wallet.low_balance_alerted:
            db.session.execute(
                text("UPDATE ledger_accounts SET low_balance_alerted = :alerted WHERE id = :id"),
                {"alerted": check.alerted, "id": wallet.id},
            )
            wallet.low_balance_alerted = check.alerted
        if check.fire:
            balance = read_balance(org_id=wallet.org_id, currency=wallet.currency)
            record_event(org_id=wallet.org_id, type="balance.low", data=dataclasses.asdict(balance))
