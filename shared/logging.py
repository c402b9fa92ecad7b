"""Structured logs (JSON lines on stderr), the same for both services."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import structlog

_configured = False


def configure_logging(level: str | None = None) -> None:
    """Configure structlog once per process; later calls are no-ops."""
    global _configured
    if _configured:
        return
    level_name = (level or os.environ.get("BRIDGES_LOG_LEVEL", "info")).upper()
    logging.basicConfig(stream=sys.stderr, level=level_name, format="%(message)s")
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=False)
        if os.environ.get("BRIDGES_LOG_FORMAT") == "console"
        else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level_name)),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    _configured = True


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
