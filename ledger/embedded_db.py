"""The embedded PostgreSQL used when DATABASE_URL is unset.

`pgserver` ships a PostgreSQL build in its wheel; the data directory lives under
`instance/`, and the server keeps running between processes (gunicorn workers,
CLI commands) that share it.
"""

import os
import signal
import sys
import time
import warnings
from pathlib import Path


def embedded_database_url(data_dir: str | Path) -> str:
    """Start (or join) the embedded server in data_dir and return its SQLAlchemy URL."""
    path = Path(data_dir)
    path.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers); harmless here.
        warnings.simplefilter("ignore")
        import pgserver  # imported lazily: a deployment with DATABASE_URL never needs it

        server = pgserver.get_server(path, cleanup_mode=None)
    return f"postgresql+psycopg://postgres@/postgres?host={server.pgdata}"


def stop_embedded_database(data_dir: str | Path, timeout: float = 30) -> bool:
    """Fast-shut-down the server running in data_dir, if any (SIGINT to the postmaster,
    as `pg_ctl stop -m fast` does); True once it has stopped."""
    pid_file = Path(data_dir) / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().split("\n", 1)[0])
        os.kill(pid, signal.SIGINT)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return True
    deadline = time.monotonic() + timeout
    while pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return not pid_file.exists()


if __name__ == "__main__":
    # `python -m ledger.embedded_db stop DIR...` (make stop, make clean)
    command, *directories = sys.argv[1:]
    if command != "stop":
        sys.exit(f"unknown command {command!r}")
    sys.exit(0 if all(stop_embedded_database(d) for d in directories) else 1)
