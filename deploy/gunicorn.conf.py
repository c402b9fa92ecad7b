"""gunicorn settings for the ledger and the notifier's API; every value can be overridden from
the environment."""

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


# Prometheus multiprocess mode: every worker writes its metrics to files in one directory and
# `/metrics` adds them up (shared/http.py), so a scrape answered by one worker counts the
# requests of all. One directory per gunicorn server: PROMETHEUS_MULTIPROC_DIR if set (emptied
# at start), else a new temporary one, removed at exit.
_made_metrics_dir: str | None = None


def on_starting(server):  # noqa: ARG001 - gunicorn's hook signature
    global _made_metrics_dir
    import tempfile
    from pathlib import Path

    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        for stale in Path(directory).glob("*.db"):
            stale.unlink()
    else:
        _made_metrics_dir = tempfile.mkdtemp(prefix="bridges-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = _made_metrics_dir


def child_exit(server, worker):  # noqa: ARG001 - gunicorn's hook signature
    # A dead worker's live gauges no longer count; its counters and histograms stay summed in.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):  # noqa: ARG001 - gunicorn's hook signature
    if _made_metrics_dir:
        import shutil

        shutil.rmtree(_made_metrics_dir, ignore_errors=True)


def post_worker_init(worker):  # noqa: ARG001 - gunicorn's hook signature
    # The app is built: what it built to last leaves the collector's generations
    # (shared/collector.py: a full collection had walked it all, a 100 ms pause).
    from shared.collector import settle_collector

    settle_collector()
