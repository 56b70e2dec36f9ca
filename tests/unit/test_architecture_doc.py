"""docs/architecture.md stays true: every `ledger.…` name it gives still exists."""

import importlib
import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"
NAME = re.compile(r"`(ledger(?:\.\w+)+)`")


def resolves(dotted: str) -> bool:
    """True when `dotted` is a module, or a name reachable by attributes from one."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:split]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[split:]:
            if not hasattr(found, attribute):
                return False
            found = getattr(found, attribute)
        return True
    return False


def test_every_name_in_the_architecture_doc_exists():
    names = set(NAME.findall(DOC.read_text()))
    assert len(names) > 30
    assert [name for name in sorted(names) if not resolves(name)] == []


def test_a_name_that_is_gone_does_not_resolve():
    assert resolves("ledger.book.engine.post_entry")
    assert not resolves("ledger.book.engine.post_everything")
    assert not resolves("ledger.nowhere.deduct")
