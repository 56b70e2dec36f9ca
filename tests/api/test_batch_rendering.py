"""The batch answer is built without marshmallow (`batch_results`); it must be exactly
what `DeductionBatchResultSchema` dumps, for deductions, replays and errors alike."""

from datetime import UTC, datetime

from ledger.api.schemas.credits import DeductionBatchResultSchema, batch_results
from ledger.errors import IdempotencyConflict, InsufficientCredit, ValidationFailed
from ledger.services.deductions import BatchOutcome, Movement


def test_batch_results_are_what_the_schema_dumps():
    movement = Movement(
        id=42,
        kind="deduction",
        order_id="a",
        amount=700,
        currency="KRW",
        balance_after=300,
        created_at=datetime(2026, 11, 30, 13, 0, 0, 123456, tzinfo=UTC),
    )
    outcomes = [
        BatchOutcome("a", deduction=movement),
        BatchOutcome("b", error=InsufficientCredit(available=5, currency="KRW")),
        BatchOutcome("c", error=IdempotencyConflict(order_id="c")),
        BatchOutcome(None, error=ValidationFailed(fields={"order_id": ["required"]})),
    ]
    assert batch_results(outcomes) == DeductionBatchResultSchema().dump({"results": outcomes})
