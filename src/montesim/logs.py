"""Logging set-up: job id and chunk index on job lines; JSON lines on request."""

from __future__ import annotations

import json
import logging
import sys
import time

_FIELDS = ("job_id", "chunk", "correlation_id")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in _FIELDS:
            if hasattr(record, key):
                out[key] = getattr(record, key)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        tags = " ".join(f"{k}={getattr(record, k)}" for k in _FIELDS if hasattr(record, k))
        return f"{line} [{tags}]" if tags else line


def setup_logging(fmt: str = "text", level: int = logging.INFO) -> None:
    root = logging.getLogger("montesim")
    if getattr(root, "_montesim_configured", None) == fmt:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter()
        if fmt == "json"
        else TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    root._montesim_configured = fmt  # type: ignore[attr-defined]
