"""Alerts: raised from the rules exactly once, resolved when their condition ends, listed
and acknowledged. Every function works in the caller's transaction (its connection)."""

from __future__ import annotations

from .evaluate import Evaluation, assess, evaluate
from .recipients import Directory, destinations
from .records import (
    ACKNOWLEDGED,
    OPEN,
    RESOLVED,
    STATUSES,
    Alert,
    RaisedAlert,
    alert_id,
)
from .store import (
    AlertPage,
    InvalidCursor,
    acknowledge,
    get_alert,
    list_alerts,
    raise_candidate,
    resolve,
)

__all__ = [
    "ACKNOWLEDGED",
    "OPEN",
    "RESOLVED",
    "STATUSES",
    "Alert",
    "AlertPage",
    "Directory",
    "Evaluation",
    "InvalidCursor",
    "RaisedAlert",
    "acknowledge",
    "alert_id",
    "assess",
    "destinations",
    "evaluate",
    "get_alert",
    "list_alerts",
    "raise_candidate",
    "resolve",
]
