"""Log lines a person can follow: one JSON object per line, the same shape in every process.

Every line has ``time``, ``level``, ``logger`` and ``message``, then its context as fields of its
own (``extra=``): ``request_id`` on every line logged while the API answers a request, the
transaction ids on the lines that accept, decide and deliver them. So one transaction id greps its
whole life, and ``jq`` can read any field without parsing prose.

``LOG_FORMAT=text`` (``make dev``) prints the same lines for a terminal, context as ``key=value``.
The API (gunicorn's ``logconfig_dict``) and the workers (Celery's ``setup_logging`` signal) both
configure logging from ``logging_config``; nothing else touches the root logger.
"""

import logging
import logging.config
import re
import uuid
from contextvars import ContextVar

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

FORMATS = ("json", "text")
# What a client may send as its request id: printable ASCII without spaces, at most 128 characters.
# Anything else is replaced, never echoed: the id is written to every log line and sent back.
REQUEST_ID_PATTERN = re.compile(r"[\x21-\x7e]{1,128}")
# The request being answered, in this thread: set and cleared by the API around each request.
current_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
# Attributes every LogRecord has; the rest of a record's attributes are its context.
_STANDARD = frozenset(RESERVED_ATTRS)


def request_id(presented: str | None) -> str:
    """The client's ``X-Request-ID`` if it is well formed, else a fresh one (uuid4 hex)."""
    if presented is not None and REQUEST_ID_PATTERN.fullmatch(presented):
        return presented
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Adds the current request's id to each record; on the handler, so propagated records get it too."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = current_request_id.get()
        if request_id is not None and not hasattr(record, "request_id"):
            record.request_id = request_id
        return True


class TextFormatter(logging.Formatter):
    """One line for a terminal: time, level, logger, message, then the context as ``key=value``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = " ".join(f"{key}={value}" for key, value in record.__dict__.items() if key not in _STANDARD)
        if not context:
            return line
        # The traceback (if any) stays last, after the context that says what failed.
        head, newline, rest = line.partition("\n")
        return f"{head} {context}{newline}{rest}"


def json_formatter() -> JsonFormatter:
    """time (ISO 8601, UTC), level, logger, message, then the record's context; a traceback as ``exc_info``."""
    return JsonFormatter(
        "{levelname}{name}{message}",
        style="{",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",
    )


def logging_config(log_format: str, level: str) -> dict:
    """A ``logging.config.dictConfig`` dictionary: one stderr handler on the root logger.

    gunicorn's own loggers are included (it is handed this as ``logconfig_dict``): they lose their
    handlers and propagate to the root, so its lines have the same shape. Whether access lines are
    written at all is gunicorn's ``accesslog`` (api/gunicorn_conf.py).
    """
    if log_format not in FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(FORMATS)}, not {log_format!r}")
    formatter = {"()": json_formatter} if log_format == "json" else {"()": TextFormatter}
    return {
        "version": 1,
        # Loggers made at import time (the app's, Celery's) keep working and reach the root.
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"line": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "line",
                "filters": ["request_id"],
            }
        },
        "root": {"level": level.upper(), "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": level.upper(), "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": True},
        },
    }


def configure(log_format: str, level: str) -> None:
    """Configure this process's logging (the workers; gunicorn does it from ``logging_config``).

    Warnings become log lines too (logger ``py.warnings``): printed, a warning is several lines of text.
    """
    logging.config.dictConfig(logging_config(log_format, level))
    logging.captureWarnings(True)
