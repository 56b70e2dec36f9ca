"""Every fixed message of the console's templates has its Korean (the people who use it
work in Korean); a missing one would show in English on a Korean page."""

import re
from pathlib import Path

from ledger.pages.i18n import CATALOGUES

TEMPLATES = Path(__file__).resolve().parents[2] / "ledger/pages/templates/console"
MESSAGE = re.compile(r"""_\((["'])(.+?)\1""")


def test_every_console_message_has_its_korean():
    messages = {
        match.group(2)
        for template in TEMPLATES.glob("*.html")
        for match in MESSAGE.finditer(template.read_text("utf-8"))
    }
    assert len(messages) > 50
    assert sorted(messages - CATALOGUES["ko"].keys()) == []
