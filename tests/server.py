"""The service as production runs it: gunicorn with gunicorn.conf.py, on a free loopback
port, against a database of the caller's (used by the gunicorn tests, bench and chaos)."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import flask_migrate

from config import Config
from ledger.app import create_app
from ledger.extensions import db

ROOT = Path(__file__).resolve().parents[1]


def migrate(database_url: str) -> None:
    """Bring the database to the migrations' head."""

    class MigrateConfig(Config):
        SQLALCHEMY_DATABASE_URI = database_url

    app = create_app(MigrateConfig)
    with app.app_context():
        flask_migrate.upgrade(directory=str(ROOT / "migrations"))
        db.engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """Start with `with Gunicorn(url) as server:`; `server.base` is its address."""

    def __init__(self, database_url: str, *, workers: int | None = None, log_path=None, env=None):
        self.database_url = database_url
        self.workers = workers
        self.env = env or {}
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.metrics_dir = tempfile.mkdtemp(prefix="ledger-metrics-")
        self.log_path = log_path or os.devnull
        self.process: subprocess.Popen[bytes]  # started by __enter__

    def __enter__(self) -> "Gunicorn":
        command = [
            str(Path(sys.executable).parent / "gunicorn"),
            "--config",
            str(ROOT / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{self.port}",
        ]
        if self.workers:
            command += ["--workers", str(self.workers)]
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "PROMETHEUS_MULTIPROC_DIR": self.metrics_dir,
            **self.env,
        }
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own command line
                [*command, "wsgi:app"], cwd=ROOT, env=env, stdout=log, stderr=log
            )
        self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=2):  # noqa: S310
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer /healthz in time")

    def worker_pids(self) -> list[int]:
        """The master's live children."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def __exit__(self, *exc) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
