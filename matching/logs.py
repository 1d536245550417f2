"""Logging: one line per event on stdout; JSON in production so log collectors can read it."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from flask import Flask, has_request_context, request


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object on one line."""

    def format(self, record: logging.LogRecord) -> str:
        event = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if has_request_context():
            event["method"] = request.method
            event["path"] = request.path
            event["request_id"] = request.headers.get("X-Request-Id", "")
        if record.exc_info:
            event["exc"] = self.formatException(record.exc_info)
        return json.dumps(event, ensure_ascii=False)


def configure(app: Flask) -> None:
    """Send the app's and the libraries' logs to stdout, as JSON or as plain text (LOG_FORMAT)."""
    handler = logging.StreamHandler(sys.stdout)
    if app.config.get("LOG_FORMAT") == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    level = app.config.get("LOG_LEVEL", "INFO")
    app.logger.handlers[:] = [handler]
    app.logger.setLevel(level)
    app.logger.propagate = False
    # flask-limiter: "Rate limit storage unreachable - falling back to in-memory storage".
    for name in ("apscheduler", "matching.jobs", "flask-limiter"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False
