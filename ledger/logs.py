"""Log lines are JSON: a timestamp, a level, the logger, the message, the request id
(inside a request) and any `extra` fields, formatted by python-json-logger."""

import logging

from flask import g, has_app_context
from pythonjsonlogger.json import JsonFormatter


class _RequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = g.get("request_id") if has_app_context() else None
        return True


def configure_logging() -> None:
    """Once per process: the `ledger` loggers write JSON lines to stderr."""
    logger = logging.getLogger("ledger")
    if logger.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            rename_fields={"asctime": "timestamp", "levelname": "level", "name": "logger"},
            datefmt="%Y-%m-%dT%H:%M:%S%z",
        )
    )
    handler.addFilter(_RequestId())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
