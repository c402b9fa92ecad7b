"""gunicorn settings for the ledger; every value can be overridden from the environment."""

import multiprocessing
import os

bind = os.environ.get("BRIDGES_LEDGER_BIND", "127.0.0.1:8000")
_default_workers = min(4, multiprocessing.cpu_count() + 1)
workers = int(os.environ.get("BRIDGES_LEDGER_WORKERS", str(_default_workers)))
threads = int(os.environ.get("BRIDGES_LEDGER_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("BRIDGES_LEDGER_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
accesslog = os.environ.get("BRIDGES_LEDGER_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("BRIDGES_LOG_LEVEL", "info")
# The app is built in each worker after the fork (no shared engine, no shared sockets).
preload_app = False
# Request size limits at the edge, before Flask sees the body.
limit_request_line = 8190
limit_request_fields = 100
