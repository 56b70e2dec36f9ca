"""The layers import downwards only (docs/architecture.md), and the pure core imports no
framework: `ledger.domain` loads neither Flask nor SQLAlchemy."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LEDGER = ROOT / "ledger"
DOMAIN = sorted(p.stem for p in (LEDGER / "domain").glob("*.py") if p.stem != "__init__")

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


# The layers: ledger/<name>/ packages and ledger/<name>.py modules.
LAYERS = {p.stem for p in LEDGER.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}
LAYERS.discard("__init__")
ENTRY_POINTS = {"api", "pages", "app", "cli", "serving"}  # what the outside world calls

# What each layer must not import; a layer not named here may import anything.
MUST_NOT_IMPORT = {
    "errors": LAYERS - {"errors"},
    "clock": LAYERS - {"clock"},
    "money": LAYERS - {"money"},
    "domain": LAYERS - {"domain", "errors", "money"},
    "models": {"book", "services", "gateways"} | ENTRY_POINTS,
    "gateways": {"book", "services", "models", "extensions"} | ENTRY_POINTS,
    "book": {"services", "gateways"} | ENTRY_POINTS,
    "services": ENTRY_POINTS,
}


def imported_layers(source: str) -> set[str]:
    """The ledger layers a module's source imports (at any depth, in functions too)."""
    modules = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "ledger":
                modules += [f"ledger.{alias.name}" for alias in node.names]
            else:
                modules.append(node.module)
        elif isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
    return {m.split(".")[1] for m in modules if m.startswith("ledger.")}


def layer_of(path: Path) -> str:
    return path.relative_to(LEDGER).parts[0].removesuffix(".py")


def wrong_way_imports() -> list[str]:
    found = []
    for path in sorted(LEDGER.rglob("*.py")):
        layer = layer_of(path)
        for imported in sorted(imported_layers(path.read_text()) - {layer}):
            if imported in MUST_NOT_IMPORT.get(layer, set()):
                found.append(f"{path.relative_to(ROOT)} ({layer}) imports ledger.{imported}")
    return found


def test_each_layer_imports_only_the_layers_below_it():
    assert {"domain", "book", "services", "gateways", "api", "models"} <= LAYERS
    assert wrong_way_imports() == []


def test_the_import_scan_sees_every_form_of_import():
    source = """
import ledger.services.deductions
from ledger.api import errors
from ledger import cli
from . import sibling
def later():
    from ledger.book.engine import post_entries
"""
    assert imported_layers(source) == {"services", "api", "cli", "book"}
    assert "services" in MUST_NOT_IMPORT["book"]
    assert "book" in MUST_NOT_IMPORT["domain"]
