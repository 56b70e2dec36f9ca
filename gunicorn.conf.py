"""gunicorn settings for `make run` and the benchmarks (`--workers N` overrides)."""

import multiprocessing

workers = multiprocessing.cpu_count() * 2
threads = 4
worker_class = "gthread"
timeout = 30
graceful_timeout = 10
