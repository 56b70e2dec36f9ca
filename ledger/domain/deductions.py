"""Deduction values shared by the HTTP layer and the service."""

from dataclasses import dataclass

from ledger.errors import LedgerError


@dataclass(frozen=True)
class RejectedItem:
    """A batch item that did not pass validation: answered with its error, never applied."""

    order_id: str | None
    error: LedgerError
