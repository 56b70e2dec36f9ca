"""gunicorn settings for `make run`, the benchmarks and the chaos run (`--workers N` overrides)."""

import multiprocessing

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
