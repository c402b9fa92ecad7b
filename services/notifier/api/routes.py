"""The notifier's routes: the alert feed, statements, equity indicators and subscriptions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from flask import Response, jsonify
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import Engine, func, select

from shared.calendar import london_date
from shared.i18n import N_
from shared.principal import Principal
from shared.problems import Problem, validation_problem
from shared.sql import begin_write

from ..access import can_manage_subscriptions, can_see_pair, partnerships_of, reach_of
from ..alerts import InvalidCursor, acknowledge, list_alerts
from ..delivery.subscriptions import InvalidSubscription, active_subscriptions, create_subscription
from ..indicators import Period, Scope
from ..indicators.load import indicators_for
from ..indicators.track_record import track_record
from ..statements import UnknownStatementScope, produce_statement, render
from ..store import tables
from ..store.read_model import load_claims
from ..store.tables import organisations, partnership_members
from .schemas import (
    AlertListArgs,
    AlertOut,
    AlertPageOut,
    IndicatorArgs,
    IndicatorsOut,
    PersonDeliveriesOut,
    StatementArgs,
    StatementOut,
    SubscriptionIn,
    SubscriptionList,
    SubscriptionOut,
    TrackRecordArgs,
    TrackRecordOut,
)

PREFIX = "/api/v1"
# The statement's formats (?format=json|csv|pdf), each declared with its content type.
STATEMENT_RESPONSE = {
    "description": "The statement as JSON, CSV or PDF (?format=json|csv|pdf)",
    "content": {
        "application/json": {"schema": StatementOut},
        "text/csv": {"schema": {"type": "string"}},
        "application/pdf": {"schema": {"type": "string", "format": "binary"}},
    },
}


def deliveries_to_person(connection: Any, person_id: str) -> list[dict[str, Any]] | None:
    """The deliveries to the person's email address, oldest first (None: unknown person)."""
    email = connection.execute(
        select(tables.people.c.email).where(tables.people.c.id == person_id)
    ).scalar()
    if email is None:
        return None
    d, a = tables.deliveries, tables.alerts
    rows = connection.execute(
        select(
            d.c.id,
            d.c.channel,
            d.c.recipient,
            d.c.status,
            d.c.created_at,
            d.c.sent_at,
            d.c.statement_id,
            d.c.payload,
            a.c.kind,
            a.c.claim_id,
        )
        .select_from(d.outerjoin(a, d.c.alert_id == a.c.id))
        .where(func.lower(d.c.recipient) == email.lower())
        .order_by(d.c.created_at, d.c.id)
    ).all()
    return [
        {
            "id": row.id,
            "channel": row.channel,
            "recipient": row.recipient,
            "status": row.status,
            "created_at": row.created_at.isoformat(),
            "sent_at": row.sent_at.isoformat() if row.sent_at else None,
            "alert_kind": row.kind,
            "claim_id": row.claim_id,
            "statement_id": row.statement_id,
            "subject": (row.payload or {}).get("subject"),
        }
        for row in rows
    ]


def not_found(what: str) -> Problem:
    return Problem(404, "not-found", N_("Not found"), f"no {what} with that id")


def build_routes(
    engine: Engine,
    authenticate: Callable[[], Principal],
    clock: Callable[[], datetime],
    allow_loopback_webhooks: bool,
) -> list[Blueprint]:
    alerts_blp = Blueprint("alerts", __name__, description="The alert feed")
    statements_blp = Blueprint("statements", __name__, description="Balance statements")
    indicators_blp = Blueprint("indicators", __name__, description="Equity indicators")
    subscriptions_blp = Blueprint("subscriptions", __name__, description="Alert subscriptions")

    def scope_filters(principal: Principal, connection: Any) -> dict[str, Any]:
        reach = reach_of(connection, principal)
        if reach.empty:
            raise Problem(
                403, "forbidden", N_("Forbidden"), N_("your roles do not give access to alerts")
            )
        return {
            "organisation_ids": list(reach.organisation_ids) or None,
            "partnership_ids": list(reach.partnership_ids) or None,
        }

    @alerts_blp.route("/alerts")
    class Alerts(MethodView):
        @alerts_blp.arguments(AlertListArgs, location="query")
        @alerts_blp.response(200, AlertPageOut)
        def get(self, args: dict[str, Any]) -> dict[str, Any]:
            """Alerts about your organisation (or, for partner viewers, your partnerships),
            newest first; filter by status, kind, partnership or claim."""
            principal = authenticate()
            with engine.connect() as connection:
                filters = scope_filters(principal, connection)
                try:
                    page = list_alerts(
                        connection,
                        **filters,
                        partnership_id=args.get("partnership_id"),
                        status=args.get("status"),
                        kind=args.get("kind"),
                        claim_id=args.get("claim_id"),
                        limit=args["limit"],
                        cursor=args.get("cursor"),
                    )
                except InvalidCursor as error:
                    raise validation_problem({"cursor": [str(error) or "not a cursor"]}) from error
            return page.to_json()

    @alerts_blp.route("/alerts/<alert_id>/acknowledge")
    class Acknowledge(MethodView):
        @alerts_blp.response(200, AlertOut)
        def post(self, alert_id: str) -> dict[str, Any]:
            """Acknowledge an alert (idempotent). Reminders still stop by themselves when the
            claim is paid, queried, rejected or withdrawn."""
            principal = authenticate()
            with begin_write(engine) as connection:
                filters = scope_filters(principal, connection)
                alert = acknowledge(
                    connection,
                    alert_id,
                    principal.person_id,
                    clock(),
                    organisation_ids=filters["organisation_ids"],
                    partnership_ids=filters["partnership_ids"],
                )
            if alert is None:
                raise not_found("alert")
            return alert.to_json()

    @statements_blp.route("/statements/<partnership_id>/<payee_id>/<payer_id>")
    class Statements(MethodView):
        @statements_blp.arguments(StatementArgs, location="query")
        @statements_blp.doc(responses={"200": STATEMENT_RESPONSE})
        def get(
            self, args: dict[str, Any], partnership_id: str, payee_id: str, payer_id: str
        ) -> Response:
            """The statement both sides see for one VCSE organisation and one payer in a
            partnership: `outstanding` as at a date (aging, interest) or `activity` over a
            period (opening, approvals, payments, reversals, closing). An outstanding
            statement's `base_rate_data` says whether its interest uses a base rate after the
            date the base rate data is confirmed to (then also a warning row in the CSV and a
            warning in the PDF)."""
            principal = authenticate()
            today = london_date(clock())
            kind = args["kind"]
            period = None
            as_at = None
            if kind == "activity":
                end = args.get("end") or today
                start = args.get("start") or end.replace(day=1)
                if end < start:
                    raise validation_problem({"end": ["must not be before start"]})
                period = (start, end)
            else:
                as_at = args.get("as_at") or today
            with engine.connect() as connection:
                reach = reach_of(connection, principal)
                if not can_see_pair(principal, reach, partnership_id, payee_id, payer_id):
                    raise not_found("statement")
                try:
                    statement = produce_statement(
                        connection,
                        partnership_id,
                        payee_id,
                        payer_id,
                        kind,
                        as_at=as_at,
                        period=period,
                        now=clock(),
                        record=False,
                    )
                except UnknownStatementScope as error:
                    raise not_found("statement") from error
            content, content_type, filename = render(statement, args["format"])
            response = Response(content, content_type=content_type)
            if args["format"] != "json":
                response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
            return response

    def indicator_view(scope_kind: str) -> Callable[..., dict[str, Any]]:
        def get(args: dict[str, Any], entity_id: str) -> dict[str, Any]:
            principal = authenticate()
            today = london_date(clock())
            end: date = args.get("end") or today
            start: date = args.get("start") or (end - timedelta(days=365))
            if end < start:
                raise validation_problem({"end": ["must not be before start"]})
            with engine.connect() as connection:
                scope = visible_scope(
                    connection, principal, scope_kind, entity_id, args.get("partnership_id")
                )
                indicators = indicators_for(connection, scope, Period(start, end), today=today)
            return indicators.to_json()

        return get

    @indicators_blp.route("/indicators/payers/<payer_id>/track-record")
    class PayerTrackRecord(MethodView):
        @indicators_blp.arguments(TrackRecordArgs, location="query")
        @indicators_blp.response(200, TrackRecordOut)
        def get(self, args: dict[str, Any], payer_id: str) -> dict[str, Any]:
            """The payer's last 90 days, as both sides see them beside an open claim: the
            share of claims paid on time (payment due in the window and judged today) and the
            median days from receipt to payment in full, with the claims still unpaid past
            due. In one partnership (`partnership_id`, required unless you are the payer)."""
            principal = authenticate()
            today = london_date(clock())
            with engine.connect() as connection:
                scope = visible_scope(
                    connection, principal, "payer", payer_id, args.get("partnership_id")
                )
                timelines = load_claims(
                    connection, partnership_id=scope.partnership_id, payer_id=payer_id
                )
            return track_record(timelines, scope, today).to_json()

    for scope_kind, path in (
        ("partnership", "/indicators/partnerships/<entity_id>"),
        ("payer", "/indicators/payers/<entity_id>"),
        ("organisation", "/indicators/organisations/<entity_id>"),
    ):
        _register_indicators(indicators_blp, path, scope_kind, indicator_view(scope_kind))

    @subscriptions_blp.route("/subscriptions")
    class Subscriptions(MethodView):
        @subscriptions_blp.arguments(SubscriptionIn)
        @subscriptions_blp.response(201, SubscriptionOut)
        def post(self, data: dict[str, Any]) -> tuple[dict[str, Any], int]:
            """Subscribe your organisation to alerts (and statements) by email or signed
            webhook. Webhook URLs must be https and public; the signing secret is shown once."""
            principal = authenticate()
            if not can_manage_subscriptions(principal):
                raise Problem(
                    403,
                    "forbidden",
                    N_("Forbidden"),
                    N_("only a VCSE admin or a payer's finance officer manages subscriptions"),
                )
            with begin_write(engine) as connection:
                try:
                    subscription = create_subscription(
                        connection,
                        organisation_id=principal.organisation_id,
                        created_by=principal.person_id,
                        channel=data["channel"],
                        target=data["target"],
                        now=clock(),
                        allow_loopback=allow_loopback_webhooks,
                        kinds=data["kinds"],
                        digest=data["digest"],
                        statements=data["statements"],
                    )
                except InvalidSubscription as error:
                    raise validation_problem({error.field: [str(error)]}) from error
            return subscription.to_json(with_secret=True), 201

        @subscriptions_blp.response(200, SubscriptionList)
        def get(self) -> dict[str, Any]:
            """Your organisation's active subscriptions (secrets are never shown again)."""
            principal = authenticate()
            with engine.connect() as connection:
                found = active_subscriptions(connection, [principal.organisation_id])
            return {"items": [s.to_json() for s in found]}

    people_blp = Blueprint("people", __name__, description="People's data (subject access)")

    @people_blp.route("/people/<person_id>/deliveries")
    class PersonDeliveries(MethodView):
        @people_blp.response(200, PersonDeliveriesOut)
        def get(self, person_id: str) -> dict[str, Any]:
            """Every alert and statement the notifier queued or sent to one person's address
            (operators; the ledger's subject access export includes it)."""
            principal = authenticate()
            if not principal.is_operator:
                raise Problem(403, "forbidden", "Forbidden", "only operators may ask this")
            with engine.connect() as connection:
                found = deliveries_to_person(connection, person_id)
            if found is None:
                raise not_found("person")
            return {"available": True, "person_id": person_id, "deliveries": found}

    return [alerts_blp, statements_blp, indicators_blp, subscriptions_blp, people_blp]


def visible_scope(
    connection: Any,
    principal: Principal,
    scope_kind: str,
    entity_id: str,
    partnership_id: str | None,
) -> Scope:
    """The indicators' scope for a partnership, a payer or a VCSE organisation, as the
    principal may see it: their own organisation, or another in a partnership they share
    (`partnership_id`); anything else is 404."""
    member_of = partnerships_of(connection, principal.organisation_id)
    if scope_kind == "partnership":
        if entity_id not in member_of:
            raise not_found("partnership")
        return Scope(partnership_id=entity_id)
    own = entity_id == principal.organisation_id
    if not own:
        if partnership_id is None or partnership_id not in member_of:
            raise not_found("organisation")
        in_partnership = connection.execute(
            select(partnership_members.c.organisation_id).where(
                partnership_members.c.partnership_id == partnership_id,
                partnership_members.c.organisation_id == entity_id,
            )
        ).first()
        if in_partnership is None:
            raise not_found("organisation")
    elif partnership_id is not None and partnership_id not in member_of:
        raise not_found("partnership")
    kind = connection.execute(
        select(organisations.c.kind).where(organisations.c.id == entity_id)
    ).scalar_one_or_none()
    expected = "statutory" if scope_kind == "payer" else "vcse"
    if kind != expected:
        raise not_found("payer" if scope_kind == "payer" else "organisation")
    if scope_kind == "payer":
        return Scope(partnership_id=partnership_id, payer_id=entity_id)
    return Scope(partnership_id=partnership_id, payee_id=entity_id)


def _register_indicators(
    blp: Blueprint, path: str, scope_kind: str, view: Callable[..., dict[str, Any]]
) -> None:
    class Indicators(MethodView):
        @blp.arguments(IndicatorArgs, location="query")
        @blp.response(200, IndicatorsOut)
        def get(self, args: dict[str, Any], entity_id: str) -> Response:
            return jsonify(view(args, entity_id))

    Indicators.__name__ = f"{scope_kind.capitalize()}Indicators"
    Indicators.get.__doc__ = (
        f"Equity indicators for one {scope_kind} over a period, each figure with its "
        "benchmarks (30 days, NHS BPPC 95%, the Compact's 10 days, 90% of SME invoices in 5 "
        "days), chart series and the six-monthly payment practices report per payer."
    )
    blp.route(path, endpoint=f"indicators_{scope_kind}")(Indicators)
