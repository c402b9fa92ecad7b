"""The ordered event feed: every fact in the order it was committed."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from shared.events.envelope import StoredEvent

from ...application import Ledger, field_error
from ...errors import Forbidden
from ...store.event_store import UnknownPosition
from ..schemas import EventFeedOut, EventsArgs
from .common import principal_of


def event_json(event: StoredEvent) -> dict[str, Any]:
    return {
        "global_position": event.global_position,
        "event_id": str(event.event_id),
        "type": event.type,
        "schema_version": event.schema_version,
        "stream_id": event.stream_id,
        "stream_version": event.stream_version,
        "partition_key": event.partition_key,
        "occurred_at": event.occurred_at.isoformat(),
        "actor": event.actor,
        "correlation_id": event.correlation_id,
        "causation_id": event.causation_id,
        "data": dict(event.data),
    }


def build_feed(ledger: Ledger) -> Blueprint:
    blp = Blueprint("events", __name__, description="The ordered event feed")

    @blp.route("/events")
    class Events(MethodView):
        @blp.arguments(EventsArgs, location="query")
        @blp.response(200, EventFeedOut)
        def get(self, args: dict[str, Any]) -> dict[str, Any]:
            """Events after the event at global position `after` (0: from the start), in the
            feed's order (operators). `after` is 0 or a position the feed gave out (422
            otherwise). Never skips an event that commits late: an event is only served once
            nothing can commit before it in the feed's order."""
            principal = principal_of(ledger)
            if not principal.is_operator:
                raise Forbidden("only operators may read the whole event feed")
            try:
                events = ledger.store.read_feed(args["after"], args["limit"])
            except UnknownPosition as error:
                raise field_error("after", "no event has this global position") from error
            next_after = events[-1].global_position if events else args["after"]
            return {"events": [event_json(e) for e in events], "next_after": next_after}

    return blp
