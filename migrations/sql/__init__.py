"""Raw SQL for migrations: each file holds its upgrade, then `--- reverse:` and its downgrade."""

from pathlib import Path

from alembic import op

_SEPARATOR = "--- reverse:"


def _parts(name: str) -> tuple[str, str]:
    text = (Path(__file__).parent / name).read_text()
    upgrade, _, downgrade = text.partition(_SEPARATOR)
    return upgrade, downgrade


def run_upgrade(name: str) -> None:
    op.execute(_parts(name)[0])


def run_downgrade(name: str) -> None:
    op.execute(_parts(name)[1])
