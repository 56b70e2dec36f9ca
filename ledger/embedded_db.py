"""The embedded PostgreSQL used when DATABASE_URL is unset.

`pgserver` ships a PostgreSQL build in its wheel; the data directory lives under
`instance/`, and the server keeps running between processes (gunicorn workers,
CLI commands) that share it.
"""

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
