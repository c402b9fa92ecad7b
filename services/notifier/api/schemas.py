"""Request and response shapes of the notifier API (the OpenAPI comes from here)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from shared.text import ONE_LINE

from ..alerts import STATUSES
from ..rules.candidates import ALERT_KINDS


class Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class AlertListArgs(Strict):
    status = fields.String(validate=validate.OneOf(STATUSES))
    kind = fields.String(validate=validate.OneOf(sorted(ALERT_KINDS)))
    partnership_id = fields.String(validate=ONE_LINE)
    claim_id = fields.String(validate=ONE_LINE)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(validate=ONE_LINE)


class StatementArgs(Strict):
    kind = fields.String(
        load_default="outstanding", validate=validate.OneOf(("outstanding", "activity"))
    )
    as_at = fields.Date(metadata={"description": "outstanding statements: default today"})
    start = fields.Date(metadata={"description": "activity statements: first day"})
    end = fields.Date(metadata={"description": "activity statements: last day"})
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv", "pdf")))


class IndicatorArgs(Strict):
    start = fields.Date(metadata={"description": "default: a year before `end`"})
    end = fields.Date(metadata={"description": "default: today"})
    partnership_id = fields.String(
        validate=ONE_LINE,
        metadata={
            "description": "limit to one partnership (required to look at another "
            "organisation than your own)"
        },
    )


class TrackRecordArgs(Strict):
    partnership_id = fields.String(
        validate=ONE_LINE,
        metadata={"description": "the partnership (required unless you are the payer)"},
    )


class TrackRecordWindowOut(ma.Schema):
    start = fields.String(metadata={"format": "date"})
    end = fields.String(metadata={"format": "date"})


class TrackRecordOut(ma.Schema):
    payer_id = fields.String()
    partnership_id = fields.String(allow_none=True)
    window = fields.Nested(TrackRecordWindowOut)
    window_days = fields.Integer()
    on_time_percent = fields.Float(
        allow_none=True, metadata={"description": "null when no claim could be judged"}
    )
    on_time_target_percent = fields.Integer()
    judged = fields.Integer(metadata={"description": "claims due in the window and judged"})
    on_time = fields.Integer()
    median_days_to_pay = fields.Float(
        allow_none=True, metadata={"description": "null when none was paid in the window"}
    )
    paid = fields.Integer(metadata={"description": "claims paid in full in the window"})
    unpaid_past_due = fields.Integer(metadata={"description": "claims still owed past due"})


class SubscriptionIn(Strict):
    channel = fields.String(required=True, validate=validate.OneOf(("email", "webhook")))
    target = fields.String(
        required=True,
        validate=[validate.Length(min=3, max=2000), ONE_LINE],
        metadata={"description": "an email address, or an https URL for webhooks"},
    )
    kinds = fields.List(
        fields.String(validate=validate.OneOf(sorted(ALERT_KINDS))),
        load_default=list,
        metadata={"description": "alert kinds to receive; empty means all"},
    )
    digest = fields.Boolean(
        load_default=False, metadata={"description": "email: one daily digest instead"}
    )
    statements = fields.Boolean(
        load_default=False, metadata={"description": "also receive monthly statements"}
    )


class AlertOut(ma.Schema):
    id = fields.String()
    subject_id = fields.String()
    kind = fields.String()
    level = fields.String()
    partnership_id = fields.String()
    payer_id = fields.String(allow_none=True)
    payee_id = fields.String(allow_none=True)
    claim_id = fields.String(allow_none=True)
    agreement_id = fields.String(allow_none=True)
    raised_on = fields.String()
    raised_at = fields.String()
    status = fields.String()
    title = fields.String()
    detail = fields.Dict()
    acknowledged_by = fields.String(allow_none=True)
    acknowledged_at = fields.String(allow_none=True)
    resolved_at = fields.String(allow_none=True)


class AlertPageOut(ma.Schema):
    items = fields.List(fields.Nested(AlertOut))
    next_cursor = fields.String(allow_none=True)


class SubscriptionOut(ma.Schema):
    id = fields.String()
    organisation_id = fields.String()
    channel = fields.String()
    target = fields.String()
    secret = fields.String(
        allow_none=True,
        metadata={"description": "webhooks: the signing secret, shown only when created"},
    )
    kinds = fields.List(fields.String())
    digest = fields.Boolean()
    statements = fields.Boolean()
    active = fields.Boolean()


class SubscriptionList(ma.Schema):
    items = fields.List(fields.Nested(SubscriptionOut))


class BaseRateDataOut(ma.Schema):
    """Whether the interest shown rests on base rates the notifier's data is confirmed for
    (also in outstanding statements as `base_rate_data`)."""

    confirmed_to = fields.Date(
        metadata={"description": "the last day the base rate data is known to be right"}
    )
    stale = fields.Boolean(
        metadata={"description": "true when some interest uses a reference date after it"}
    )
    reference_dates = fields.List(
        fields.Date(), metadata={"description": "the reference dates the interest uses"}
    )
    reference_dates_unconfirmed = fields.List(
        fields.Date(), metadata={"description": "those after confirmed_to"}
    )
    message = fields.String(
        allow_none=True, metadata={"description": "what to tell a reader when stale; else null"}
    )


class IndicatorsOut(ma.Schema):
    scope = fields.Dict()
    period = fields.Dict()
    as_at = fields.String()
    figures = fields.Dict()
    series = fields.Dict()
    payment_practices = fields.List(fields.Dict())
    base_rate_data = fields.Nested(BaseRateDataOut)


class PartyOut(ma.Schema):
    id = fields.String()
    name = fields.String()


class StatementOut(ma.Schema):
    """A statement as JSON (``?format=json``). ``outstanding`` statements carry ``as_at``,
    ``items``, ``buckets`` and ``interest_note``; ``activity`` statements carry ``period``,
    the opening and closing balances, ``lines`` and ``awaiting_approval``."""

    id = fields.String()
    kind = fields.String(metadata={"enum": ["outstanding", "activity"]})
    trigger = fields.String()
    produced_at = fields.String(metadata={"format": "date-time"})
    partnership = fields.Nested(PartyOut)
    payee = fields.Nested(PartyOut)
    payer = fields.Nested(PartyOut)
    benchmarks = fields.String()
    as_at = fields.Date()
    items = fields.List(fields.Dict())
    buckets = fields.Dict()
    interest_note = fields.String()
    period = fields.Dict()
    opening_balance_pence = fields.Integer()
    closing_balance_pence = fields.Integer()
    lines = fields.List(fields.Dict())
    awaiting_approval = fields.Dict()
    totals = fields.Dict()
    base_rate_data = fields.Nested(BaseRateDataOut)


class PersonDeliveriesOut(ma.Schema):
    available = fields.Boolean()
    person_id = fields.String()
    deliveries = fields.List(fields.Dict())
