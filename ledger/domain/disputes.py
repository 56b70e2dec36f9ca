"""Disputes (chargebacks): what the gateway's record of one means for the ledger.

Design overview
---------------
A cardholder's bank can take a top-up's money back after we credited it. While the
dispute is open, what is left of the top-up's lot (up to the disputed amount) is frozen:
it leaves `available` for `held`, so it can be neither spent nor refunded. Then:

- won (Stripe's `won` or `warning_closed`; PortOne: resolved without a chargeback): the
  frozen credit returns to the lot;
- lost: the gateway keeps the disputed amount. The frozen credit goes back to the
  gateway's clearing account, and the part that had already been spent becomes the
  dispute's `shortfall`: the platform's loss, listed for operators, never a negative wallet.

`decide` is the one place that says which move a fetched dispute makes. A dispute seen
first when it is already closed is recorded and settled in one go (frozen and released,
or frozen and lost), so the books read the same whatever the webhooks' order.
"""

from dataclasses import dataclass

OPEN = "open"
WON = "won"
LOST = "lost"

CLOSED = frozenset({WON, LOST})


@dataclass(frozen=True)
class DisputeMove:
    freeze: bool  # record the dispute and freeze what is left of the lot
    close: str | None  # WON or LOST: settle the frozen credit


def decide(recorded: str | None, gateway: str) -> DisputeMove:
    """What the gateway's status means, given what we recorded (None: not yet)."""
    if recorded in CLOSED:
        return DisputeMove(freeze=False, close=None)  # decided once; nothing reopens it
    return DisputeMove(freeze=recorded is None, close=gateway if gateway in CLOSED else None)


def frozen_amount(disputed: int, lot_remaining: int) -> int:
    """What a dispute freezes: what is left of the lot, up to the disputed amount."""
    return max(0, min(disputed, lot_remaining))


@dataclass(frozen=True)
class Loss:
    to_gateway: int  # the whole disputed amount leaves the gateway's clearing balance
    from_frozen: int  # of which the frozen credit covers this much
    shortfall: int  # and the platform's loss the rest (credit already spent)


def loss(disputed: int, frozen: int) -> Loss:
    return Loss(to_gateway=disputed, from_frozen=frozen, shortfall=disputed - frozen)


def settle_shortfall_first(returned: int, shortfall: int) -> tuple[int, int]:
    """Credit coming back to a lot that owes a shortfall settles it first.

    Returns (settled, spendable): what goes to make good the shortfall, and what the lot
    and the wallet get back.
    """
    settled = min(returned, shortfall)
    return settled, returned - settled
