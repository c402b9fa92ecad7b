"""Request and response shapes of the ledger API (marshmallow; the OpenAPI comes from here).

Requests refuse unknown fields, so a mass-assigned `status` or `version` is an error, not
silently ignored. Type and shape are checked here; the rules of the domain (quarter hours,
dates inside the agreement, amounts within what is owed) are checked by the domain.
"""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from shared.claim_position import CLAIM_STATUSES
from shared.events.types import PREFERRED_LANGUAGES
from shared.text import MULTILINE, ONE_LINE

ACTIVITIES = (
    "meeting",
    "co_design",
    "peer_learning",
    "buddy_scheme",
    "training",
    "travel",
    "preparation",
    "other",
)
EXPENSE_CATEGORIES = ("travel", "subsistence", "childcare", "care", "materials", "venue", "other")
NATIONS = ("england", "wales", "scotland", "northern_ireland")
ROLES = ("vcse_member", "vcse_admin", "approver", "finance", "partner_viewer", "operator")

Pence = fields.Integer  # strict integers only: 12.5 or "12" is refused
_positive = validate.Range(min=1, error="must be a positive whole number of pence")
# Free text is checked by shared/text.py: multi-line (descriptions, questions, answers,
# reasons) or one line (everything else, identifiers included).
_text = [validate.Length(min=1, max=500), MULTILINE]
_name = [validate.Length(min=1, max=200), ONE_LINE]
_id = ONE_LINE


class Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class Hours(fields.Field):  # type: ignore[type-arg]
    """Hours as a string ("3.5") or a JSON number; the domain checks the quarter steps."""

    def _deserialize(self, value, attr, data, **kwargs):  # type: ignore[no-untyped-def]
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ma.ValidationError("hours must be a number or a numeric string")
        return value

    def _serialize(self, value, attr, obj, **kwargs):  # type: ignore[no-untyped-def]
        return None if value is None else str(value)


# ---- requests -------------------------------------------------------------------------


class OrganisationIn(Strict):
    name = fields.String(required=True, validate=_name)
    kind = fields.String(required=True, validate=validate.OneOf(("vcse", "statutory")))
    charity_number = fields.String(load_default=None, validate=[validate.Length(max=16), ONE_LINE])
    company_number = fields.String(load_default=None, validate=[validate.Length(max=16), ONE_LINE])
    contact_email = fields.Email(load_default=None, validate=ONE_LINE)
    vat_number = fields.String(load_default=None, validate=[validate.Length(max=16), ONE_LINE])
    peppol_id = fields.String(load_default=None, validate=[validate.Length(max=64), ONE_LINE])


class IdentifiersIn(Strict):
    """Each one sent replaces the one recorded (null: the organisation has none); the ones not
    sent stay as they are."""

    charity_number = fields.String(allow_none=True, validate=[validate.Length(max=16), ONE_LINE])
    company_number = fields.String(allow_none=True, validate=[validate.Length(max=16), ONE_LINE])
    vat_number = fields.String(allow_none=True, validate=[validate.Length(max=16), ONE_LINE])
    peppol_id = fields.String(
        allow_none=True,
        validate=[validate.Length(max=64), ONE_LINE],
        metadata={"description": "scheme:identifier, e.g. 0088:5012345000008 (a GLN)"},
    )


class PersonIn(Strict):
    name = fields.String(required=True, validate=_name)
    email = fields.Email(required=True, validate=ONE_LINE)
    roles = fields.List(
        fields.String(validate=validate.OneOf(ROLES)),
        required=True,
        validate=validate.Length(min=1),
    )


class LanguageIn(Strict):
    language = fields.String(
        required=True,
        validate=validate.OneOf(PREFERRED_LANGUAGES),
        metadata={"description": "cy (Cymraeg) or en (English): emails and statements"},
    )


class LanguageOut(ma.Schema):
    organisation_id = fields.String()
    person_id = fields.String(allow_none=True)
    language = fields.String()


class PartnershipIn(Strict):
    name = fields.String(required=True, validate=_name)
    organisation_ids = fields.List(
        fields.String(validate=_id), required=True, validate=validate.Length(min=2, max=200)
    )


class ActivityRatesIn(Strict):
    hourly_pence = Pence(strict=True, validate=_positive, load_default=None)
    half_day_pence = Pence(strict=True, validate=_positive, load_default=None)
    day_pence = Pence(strict=True, validate=_positive, load_default=None)


class RatesIn(Strict):
    hourly_pence = Pence(strict=True, required=True, validate=_positive)
    half_day_pence = Pence(strict=True, validate=_positive, load_default=None)
    day_pence = Pence(strict=True, validate=_positive, load_default=None)
    by_activity = fields.Dict(
        keys=fields.String(validate=validate.OneOf(ACTIVITIES)),
        values=fields.Nested(ActivityRatesIn),
        load_default=dict,
    )


class AgreementIn(Strict):
    payer_id = fields.String(required=True, validate=_id)
    payee_id = fields.String(required=True, validate=_id)
    nation = fields.String(required=True, validate=validate.OneOf(NATIONS))
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    rates = fields.Nested(RatesIn, required=True)
    budget_pence = Pence(strict=True, validate=_positive, load_default=None)
    payment_terms_days = fields.Integer(strict=True, load_default=30)
    approval_sla_working_days = fields.Integer(strict=True, load_default=5)
    reminder_schedule = fields.List(fields.Integer(strict=True), load_default=None)


class AgreementAmendIn(Strict):
    ends_on = fields.Date()
    rates = fields.Nested(RatesIn)
    budget_pence = Pence(strict=True, validate=_positive, allow_none=True)
    payment_terms_days = fields.Integer(strict=True)
    approval_sla_working_days = fields.Integer(strict=True)
    reminder_schedule = fields.List(fields.Integer(strict=True))


class ClaimLineIn(Strict):
    worked_on = fields.Date(required=True)
    hours = Hours(required=True, metadata={"type": "string", "example": "3.5"})
    activity = fields.String(required=True, validate=validate.OneOf(ACTIVITIES))
    worker = fields.String(required=True, validate=_name)
    description = fields.String(required=True, validate=_text)


_receipt_id = validate.Regexp(r"^[0-9a-f]{64}$", error="must be a receipt id (64 hex digits)")


class ExpenseIn(Strict):
    category = fields.String(required=True, validate=validate.OneOf(EXPENSE_CATEGORIES))
    amount_pence = Pence(strict=True, required=True, validate=_positive)
    description = fields.String(required=True, validate=_text)
    receipts = fields.List(
        fields.String(validate=_receipt_id),
        load_default=list,
        validate=validate.Length(max=10),
        metadata={"description": "ids returned by POST /receipts"},
    )


class ReceiptUploadIn(ma.Schema):
    file = fields.Raw(
        required=True,
        metadata={"type": "string", "format": "binary", "description": "JPEG, PNG, HEIC or PDF"},
    )


class ClaimIn(Strict):
    agreement_id = fields.String(required=True, validate=_id)
    lines = fields.List(
        fields.Nested(ClaimLineIn), required=True, validate=validate.Length(min=1, max=200)
    )
    expenses = fields.List(
        fields.Nested(ExpenseIn), load_default=list, validate=validate.Length(max=100)
    )


class ClaimAmendIn(Strict):
    lines = fields.List(
        fields.Nested(ClaimLineIn), required=True, validate=validate.Length(min=1, max=200)
    )
    expenses = fields.List(
        fields.Nested(ExpenseIn), load_default=list, validate=validate.Length(max=100)
    )


class ApproveIn(Strict):
    amount_pence = Pence(strict=True, validate=_positive, load_default=None)
    reason = fields.String(validate=_text, load_default=None)


class QueryIn(Strict):
    question = fields.String(required=True, validate=_text)


class AnswerIn(Strict):
    answer = fields.String(required=True, validate=_text)


class RejectIn(Strict):
    reason = fields.String(required=True, validate=_text)


class WithdrawIn(Strict):
    pass


class AllocationIn(Strict):
    claim_id = fields.String(required=True, validate=_id)
    amount_pence = Pence(strict=True, required=True, validate=_positive)


class PaymentIn(Strict):
    payer_id = fields.String(required=True, validate=_id)
    payee_id = fields.String(required=True, validate=_id)
    paid_on = fields.Date(required=True)
    reference = fields.String(required=True, validate=[validate.Length(min=1, max=100), ONE_LINE])
    allocations = fields.List(
        fields.Nested(AllocationIn), required=True, validate=validate.Length(min=1, max=500)
    )


class ReverseIn(Strict):
    reason = fields.String(required=True, validate=_text)


class ClaimListArgs(Strict):
    status = fields.String(validate=validate.OneOf(CLAIM_STATUSES))
    agreement_id = fields.String(validate=_id)
    partnership_id = fields.String(validate=_id)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(validate=_id)


class BalancesArgs(Strict):
    as_at = fields.Date()


class EventsArgs(Strict):
    after = fields.Integer(load_default=0, validate=validate.Range(min=0))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


# ---- responses ------------------------------------------------------------------------


class OrganisationOut(ma.Schema):
    id = fields.String()
    name = fields.String()
    kind = fields.String()
    charity_number = fields.String(allow_none=True)
    company_number = fields.String(allow_none=True)
    contact_email = fields.String(allow_none=True)
    vat_number = fields.String(allow_none=True)
    peppol_id = fields.String(allow_none=True)


class PersonOut(ma.Schema):
    id = fields.String()
    organisation_id = fields.String()
    name = fields.String()
    email = fields.String()
    roles = fields.List(fields.String())


class PartnershipOut(ma.Schema):
    id = fields.String()
    name = fields.String()
    organisation_ids = fields.List(fields.String())


class ActivityRatesOut(ma.Schema):
    hourly_pence = fields.Integer(allow_none=True)
    half_day_pence = fields.Integer(allow_none=True)
    day_pence = fields.Integer(allow_none=True)


class RatesOut(ActivityRatesOut):
    by_activity = fields.Dict(keys=fields.String(), values=fields.Nested(ActivityRatesOut))


class AgreementOut(ma.Schema):
    id = fields.String()
    partnership_id = fields.String()
    payer_id = fields.String()
    payee_id = fields.String()
    nation = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date()
    rates = fields.Nested(RatesOut)
    budget_pence = fields.Integer(allow_none=True)
    payment_terms_days = fields.Integer()
    approval_sla_working_days = fields.Integer()
    reminder_schedule = fields.List(fields.Integer())
    version = fields.Integer()


class ClaimLineOut(ma.Schema):
    worked_on = fields.Date()
    hours = fields.String()
    activity = fields.String()
    worker = fields.String()
    description = fields.String()
    amount_pence = fields.Integer()
    rate_basis = fields.String()


class ReceiptOut(ma.Schema):
    id = fields.String(metadata={"description": "the SHA-256 of the stored file, hex"})
    sha256 = fields.String()
    media_type = fields.String()
    size_bytes = fields.Integer()
    href = fields.String()


class ExpenseOut(ma.Schema):
    category = fields.String()
    amount_pence = fields.Integer()
    description = fields.String()
    receipts = fields.List(fields.Nested(ReceiptOut))


class QueueOut(ma.Schema):
    place = fields.Integer(
        allow_none=True,
        metadata={
            "description": "1 = next in the payer's approval queue (claims waiting for a "
            "decision, most urgent first); null when not waiting for the payer"
        },
    )
    of = fields.Integer(allow_none=True, metadata={"description": "claims in that queue"})
    approval_working_days_left = fields.Integer(
        allow_none=True,
        metadata={
            "description": "working days (the agreement's nation) to approval due; "
            "negative when late; null once decided"
        },
    )
    payment_days_left = fields.Integer(
        allow_none=True,
        metadata={
            "description": "calendar days to payment due (with the dispute clock); negative "
            "when overdue; null when nothing is owed"
        },
    )


class ClaimOut(ma.Schema):
    id = fields.String()
    agreement_id = fields.String()
    partnership_id = fields.String()
    payer_id = fields.String()
    payee_id = fields.String()
    status = fields.String()
    version = fields.Integer()
    amount_pence = fields.Integer()
    approved_pence = fields.Integer(allow_none=True)
    paid_pence = fields.Integer()
    outstanding_pence = fields.Integer()
    submitted_by = fields.String()
    submitted_on = fields.Date()
    approval_due = fields.Date()
    payment_due = fields.Date()
    open_question = fields.String(allow_none=True)
    decision_reason = fields.String(allow_none=True)
    lines = fields.List(fields.Nested(ClaimLineOut))
    expenses = fields.List(fields.Nested(ExpenseOut))
    queue = fields.Nested(QueueOut)


class ClaimPage(ma.Schema):
    items = fields.List(fields.Nested(ClaimOut))
    next_cursor = fields.String(allow_none=True)


class EventOut(ma.Schema):
    global_position = fields.Integer()
    event_id = fields.String()
    type = fields.String()
    schema_version = fields.Integer()
    stream_id = fields.String()
    stream_version = fields.Integer()
    partition_key = fields.String()
    occurred_at = fields.String()
    actor = fields.String(allow_none=True)
    correlation_id = fields.String(allow_none=True)
    causation_id = fields.String(allow_none=True)
    data = fields.Dict()


class HistoryOut(ma.Schema):
    events = fields.List(fields.Nested(EventOut))


class EventFeedOut(ma.Schema):
    events = fields.List(fields.Nested(EventOut))
    next_after = fields.Integer()


class AllocationOut(ma.Schema):
    claim_id = fields.String()
    amount_pence = fields.Integer()


class PaymentOut(ma.Schema):
    id = fields.String()
    partnership_id = fields.String()
    payer_id = fields.String()
    payee_id = fields.String()
    paid_on = fields.Date()
    reference = fields.String()
    amount_pence = fields.Integer()
    allocations = fields.List(fields.Nested(AllocationOut))
    reversed = fields.Boolean()
    reversal_reason = fields.String(allow_none=True)


class AgingOut(ma.Schema):
    not_due = fields.Integer()
    d1_30 = fields.Integer(data_key="1-30")
    d31_60 = fields.Integer(data_key="31-60")
    d61_90 = fields.Integer(data_key="61-90")
    d90_plus = fields.Integer(data_key="90+")


class OrganisationBalanceOut(ma.Schema):
    organisation_id = fields.String()
    organisation_name = fields.String()
    claims = fields.Integer()
    claimed_pence = fields.Integer()
    approved_pence = fields.Integer()
    paid_pence = fields.Integer()
    outstanding_pence = fields.Integer()
    awaiting_approval_pence = fields.Integer()
    overdue_pence = fields.Integer()
    aging = fields.Dict(keys=fields.String(), values=fields.Integer())


class BalancesOut(ma.Schema):
    partnership_id = fields.String()
    as_at = fields.Date()
    organisations = fields.List(fields.Nested(OrganisationBalanceOut))


class PersonExportOut(ma.Schema):
    """Everything held about one person (see services/ledger/people.py)."""

    person = fields.Dict()
    organisation = fields.Dict()
    claims = fields.List(fields.Dict())
    actions = fields.List(fields.Dict())
    api_tokens = fields.List(fields.Dict())
    erased = fields.List(fields.Dict())
    sign_ins = fields.List(fields.Dict())
    identity_provider_link = fields.List(fields.Dict())
    accesses_by_them = fields.List(fields.Dict())
    exports_of_their_data = fields.List(fields.Dict())
    alerts_sent = fields.Dict(allow_none=True)


# ---- e-invoices -----------------------------------------------------------------------


class MonthInvoiceIn(Strict):
    payer_id = fields.String(required=True, validate=[validate.Length(min=1, max=64), ONE_LINE])
    month = fields.String(
        required=True,
        validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="must be a month as YYYY-MM"),
        metadata={"example": "2026-11"},
    )


class ClaimInvoiceIn(Strict):
    """Nothing to send: the claim names everything."""


class InvoiceOut(ma.Schema):
    id = fields.String()
    number = fields.String(metadata={"description": "Sequential per issuing organisation"})
    sequence = fields.Integer()
    issuer_id = fields.String(metadata={"description": "The VCSE organisation (supplier)"})
    payer_id = fields.String(metadata={"description": "The payer (customer)"})
    partnership_id = fields.String()
    issued_on = fields.Date()
    due_on = fields.Date()
    period = fields.String(allow_none=True, metadata={"description": "A month's invoice: YYYY-MM"})
    claim_ids = fields.List(fields.String())
    total_pence = fields.Integer(metadata={"description": "The approved total (no VAT)"})
    paid_pence = fields.Integer(metadata={"description": "Already paid on the day of issue"})
    payable_pence = fields.Integer()
    links = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": "ubl: the UBL 2.1 XML; pdf: the PDF"},
    )
