"""The bookkeeping core (`ledger/book/`) is the only writer of the books.

Every .py and .sql file of the project outside the core and `tests/` is scanned. The
core is `ledger/book/` and the database functions it calls, which live in
`migrations/sql/deductions.sql` (a deduction in one round trip). None may

- write journal entries, postings, ledger accounts, lots or lot allocations, in SQL
  (INSERT INTO / UPDATE / DELETE FROM) or through the ORM (`session.add(Lot(...))`,
  `insert(Posting)`, `wallet.balance = ...`, `lot.remaining = ...`),
- end a transaction (`.commit()`, `.rollback()`): a use case is one `unit_of_work()`,
- reach into the core's private names (`engine._POST`).
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = (
    Path("ledger/book"),
    Path("migrations/sql/deductions.sql"),
    Path("migrations/sql/deduct_one.sql"),
)
NOT_SCANNED = {".venv", "tests", "instance", "node_modules", ".git"}

# Files allowed a finding, with why.
ALLOWED = {
    # The bench's ceiling is a deduction's SQL written out for pgbench, run on a bench
    # database to measure what PostgreSQL itself does without the service.
    ("bench/ceiling.sql", "sql"),
}

TABLES = r"(journal_entries|postings|ledger_accounts|lots|lot_allocations)"
SQL_WRITE = re.compile(rf"\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+{TABLES}\b", re.IGNORECASE)
MODELS = {"JournalEntry", "Posting", "LedgerAccount", "Lot", "LotAllocation"}
MOVED_COLUMNS = {"balance", "remaining"}


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def findings_in(source: str) -> list[tuple[int, str, str]]:
    """(line, kind, what) for every way this source writes the books or ends a transaction."""
    tree = ast.parse(source)
    core_names = set()  # names bound to ledger.book modules or objects
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ledger.book"):
            for alias in node.names:
                if alias.name.startswith("_"):
                    found.append((node.lineno, "private", f"imports {alias.name}"))
                core_names.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            for match in SQL_WRITE.finditer(node.value):
                found.append((node.lineno, "sql", match.group(0)))
        elif isinstance(node, ast.Call):
            func = _name(node.func)
            if isinstance(node.func, ast.Attribute) and func in {"commit", "rollback"}:
                found.append((node.lineno, "transaction", f"{func}()"))
            if func in {"add", "add_all", "merge"}:
                for arg in ast.walk(node):
                    if isinstance(arg, ast.Call) and _name(arg.func) in MODELS:
                        found.append((node.lineno, "orm", f"{func}({_name(arg.func)}(...))"))
            table = _name(node.args[0]) if node.args else None
            if func in {"insert", "update", "delete"} and table in MODELS:
                found.append((node.lineno, "orm", f"{func}({table})"))
        elif isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr in MOVED_COLUMNS:
                    found.append((node.lineno, "orm", f"sets .{target.attr}"))
        elif (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and isinstance(node.value, ast.Name)
            and node.value.id in core_names
        ):
            found.append((node.lineno, "private", f"{node.value.id}.{node.attr}"))
    return found


def sql_findings_in(source: str) -> list[tuple[int, str, str]]:
    """(line, "sql", what) for every write to the books in a SQL file."""
    return [
        (source.count("\n", 0, match.start()) + 1, "sql", match.group(0))
        for match in SQL_WRITE.finditer(source)
    ]


def offenders(root: Path = ROOT) -> list[str]:
    """Every finding outside the core, as 'path:line: kind: what'."""
    result = []
    for path in sorted([*root.rglob("*.py"), *root.rglob("*.sql")]):
        relative = path.relative_to(root)
        if relative.parts[0] in NOT_SCANNED or any(relative.is_relative_to(c) for c in CORE):
            continue
        source = path.read_text()
        found = findings_in(source) if path.suffix == ".py" else sql_findings_in(source)
        for line, kind, what in found:
            if (relative.as_posix(), kind) not in ALLOWED:
                result.append(f"{relative}:{line}: {kind}: {what}")
    return result


def test_only_the_core_writes_the_books():
    assert offenders() == []


def test_the_scan_sees_each_way_of_writing():
    source = """
db.session.execute(text("UPDATE ledger_accounts SET balance = 0"))
db.session.execute(text("insert into lots (id) values (1)"))
db.session.execute(text("DELETE FROM lot_allocations"))
db.session.add(Posting(entry_id=1))
db.session.execute(update(Lot).values(remaining=0))
wallet.balance = 5
lot.remaining -= 1
db.session.commit()
db.session.rollback()
from ledger.book.engine import _POST
from ledger.book import engine
engine._POST
"""
    kinds = [kind for _, kind, _ in findings_in(source)]
    assert kinds.count("sql") == 3
    assert kinds.count("orm") == 4
    assert kinds.count("transaction") == 2
    assert kinds.count("private") == 2


def test_the_scan_sees_writes_in_sql_files():
    source = "SELECT 1;\nUPDATE lots SET remaining = 0;\nINSERT INTO postings VALUES (1);\n"
    assert sql_findings_in(source) == [
        (2, "sql", "UPDATE lots"),
        (3, "sql", "INSERT INTO postings"),
    ]


def test_reads_and_other_tables_are_not_findings():
    source = """
db.session.execute(text("SELECT balance FROM ledger_accounts WHERE id = 1 FOR UPDATE"))
db.session.execute(text("UPDATE topups SET status = 'paid'"))
db.session.add(Topup(id=1))
topup.status = "paid"
"""
    assert findings_in(source) == []
