"""Structured logs: one JSON object per line, for Django, gunicorn and Celery alike (LOG_FORMAT=json).

Pure standard library, so gunicorn's master can load it before Django is set up
(gunicorn.conf.py names it in its logging configuration). Log collectors read
the fields; people read the `message`. A request's id (core.middleware.
RequestIdMiddleware) rides on a context variable, so every line logged while
a request is served carries it, and gunicorn's access line carries the same id
from the response's X-Request-ID header.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

# The id of the request being served in this thread (None outside requests).
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# gunicorn's access-log atoms (gunicorn.glogging.Logger.atoms) under readable names.
ACCESS_FIELDS = {
    "h": "remote_addr",
    "m": "method",
    "U": "path",
    "q": "query",
    "s": "status",
    "B": "bytes",
    "M": "duration_ms",
    "a": "user_agent",
    "f": "referer",
}
# The attributes every LogRecord has; anything else was passed with `extra=` and is kept.
_RECORD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id"}


class JsonFormatter(logging.Formatter):
    """A log record as one line of JSON: time (UTC), level, logger, message, process, and context."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        if record.name == "gunicorn.access" and isinstance(record.args, dict):
            entry.update(_access_fields(record.args))
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        entry.update(_celery_task_fields())
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_") and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def _access_fields(atoms: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for atom, name in ACCESS_FIELDS.items():
        value = atoms.get(atom)
        if value not in (None, "", "-"):
            fields[name] = int(value) if name in ("status", "bytes", "duration_ms") and str(value).isdigit() else value
    request_id = atoms.get("{x-request-id}o")
    if request_id not in (None, "", "-"):
        fields["request_id"] = request_id
    return fields


def _celery_task_fields() -> dict[str, Any]:
    """The Celery task being run in this process, if any (only where Celery is already loaded)."""
    state = sys.modules.get("celery._state")
    if state is None:
        return {}
    task = state.get_current_task()
    if task is None or task.request.id is None:
        return {}
    return {"task_name": task.name, "task_id": task.request.id}


def forget_request_id(**kwargs: Any) -> None:
    """After a response is sent (Django's request_finished): later lines belong to no request."""
    request_id_var.set(None)


def use_json_formatter(logger: logging.Logger) -> None:
    """Give a logger's handlers (Celery's, which it sets up itself) the JSON formatter."""
    for handler in logger.handlers:
        handler.setFormatter(JsonFormatter())
