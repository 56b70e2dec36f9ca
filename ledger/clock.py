"""The service's clock: UTC now, which tests may pin to stand at a boundary."""

from datetime import UTC, datetime

_pinned: datetime | None = None


def now() -> datetime:
    return _pinned or datetime.now(UTC)


def pin(moment: datetime | None) -> None:
    """Freeze the clock at `moment` (None lets it run again)."""
    global _pinned
    _pinned = moment
