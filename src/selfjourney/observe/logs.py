"""Log lines as one JSON object each (``log_format = "json"``), carrying the request and job
ids of the work that logged them, so lines from N API and M worker processes can be joined.

Usage::

    configure_logging(settings)          # once, at process start
    with job_context(job.id):            # the worker, while it runs a job
        log.info("rendered")             # {"time": ..., "job_id": job.id, ...}
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TextIO

from selfjourney.config import Settings

#: The HTTP request being served (set by the API's request-id middleware).
request_id: ContextVar[str | None] = ContextVar("selfjourney_request_id", default=None)
#: The job being run (set by the worker while it runs one).
job_id: ContextVar[str | None] = ContextVar("selfjourney_job_id", default=None)

TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"


@contextmanager
def job_context(job: str) -> Iterator[None]:
    """Stamp every line logged inside with ``job``'s id."""
    token = job_id.set(job)
    try:
        yield
    finally:
        job_id.reset(token)


class ContextIds(logging.Filter):
    """Copies the current request and job ids onto the record as it is handled (in the
    logging thread, whose context is the one that logged)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.job_id = job_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the ids when known."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in ("request_id", "job_id"):
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(settings: Settings, stream: TextIO | None = None) -> logging.Handler:
    """Send every logger's lines (uvicorn's too) to ``stream`` (stderr) in the settings'
    format; replaces the handler an earlier call installed, and returns the new one."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(ContextIds())
    json_lines = settings.log_format == "json"
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(TEXT_FORMAT))
    handler.set_name("selfjourney")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "selfjourney"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    return handler
