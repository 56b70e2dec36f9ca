"""gunicorn settings for `make run`, the benchmarks and the chaos run (`--workers N` overrides)."""

import multiprocessing
import subprocess
import sys
from pathlib import Path

workers = multiprocessing.cpu_count() * 2
threads = 4
# gthread, answering its own errors as JSON, with a read timeout (ledger/serving.py).
worker_class = "ledger.serving.LedgerWorker"
timeout = 30
graceful_timeout = 10


def on_starting(server):
    """Metrics start from zero: the multiprocess files of an earlier run would add up."""
    from config import Config
    from ledger.metrics import clear_samples

    clear_samples(Config.PROMETHEUS_MULTIPROC_DIR)


def when_ready(server):
    """`make run`: start the event delivery worker beside the web workers."""
    from config import Config

    if Config.DELIVER_EVENTS_WITH_GUNICORN:
        flask = Path(sys.executable).parent / "flask"
        server.event_worker = subprocess.Popen(  # noqa: S603 - our own command line
            [str(flask), "--app", "wsgi", "ledger", "deliver-events"]
        )


def on_exit(server):
    """Stop the event worker with gunicorn (it finishes the batch it is sending)."""
    worker = getattr(server, "event_worker", None)
    if worker is not None:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
