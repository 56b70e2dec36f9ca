"""The pure core imports no framework: `ledger.domain` loads neither Flask nor SQLAlchemy."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = sorted(p.stem for p in (ROOT / "ledger" / "domain").glob("*.py") if p.stem != "__init__")

_PROBE = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module("ledger.domain." + name)
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


def test_the_domain_loads_no_framework():
    assert {"entries", "lots", "payments", "refunds", "topups"} <= set(DOMAIN)
    loaded = subprocess.run(  # noqa: S603 (our own interpreter and module names)
        [sys.executable, "-c", _PROBE, *DOMAIN],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "ledger" in loaded
    for framework in ("flask", "sqlalchemy", "flask_smorest", "marshmallow", "stripe"):
        assert f'"{framework}"' not in loaded
