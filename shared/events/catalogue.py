"""The event catalogue: one marshmallow schema per (type, schema_version), JSON in and out.

Stored and published events carry a stable type name and a schema version, never a Python
path, so classes can move and be renamed without breaking replay. An older version is brought
up to date by the upcasters before it is loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from marshmallow import RAISE, Schema, ValidationError, fields, post_dump, post_load

from .envelope import NewEvent, StoredEvent
from .reader import NotPlain, Reader, reader_for
from .types import (
    ALL_EVENT_CLASSES,
    ActivityRates,
    AgreementAmended,
    AgreementSigned,
    Allocation,
    ApiTokensRevoked,
    ClaimAmended,
    ClaimApproved,
    ClaimLine,
    ClaimQueried,
    ClaimQueryAnswered,
    ClaimRejected,
    ClaimSubmitted,
    ClaimWithdrawn,
    Event,
    ExpenseLine,
    InvoiceIssued,
    OrganisationIdentifiersRecorded,
    OrganisationRegistered,
    PartnershipFormed,
    PaymentRecorded,
    PaymentReversed,
    PersonAdded,
    PersonalDataErased,
    PreferredLanguageChosen,
    RateCard,
    ReceiptRef,
)

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class EventDecodeError(Exception):
    """Stored or received event data that cannot become an event."""


class UnknownEventType(EventDecodeError):
    def __init__(self, event_type: str) -> None:
        super().__init__(f"unknown event type {event_type!r}")
        self.event_type = event_type


class UnsupportedSchemaVersion(EventDecodeError):
    def __init__(self, event_type: str, schema_version: object) -> None:
        super().__init__(f"{event_type} has no supported schema version {schema_version!r}")
        self.event_type = event_type
        self.schema_version = schema_version


class MalformedEvent(EventDecodeError):
    def __init__(self, event_type: str, schema_version: int, reason: str) -> None:
        super().__init__(f"{event_type} v{schema_version} is malformed: {reason}")
        self.event_type = event_type
        self.schema_version = schema_version
        self.reason = reason


# ---- field helpers ---------------------------------------------------------------------------


def _id() -> fields.String:
    return fields.String(required=True)


def _text() -> fields.String:
    return fields.String(required=True)


def _optional_text() -> fields.String:
    return fields.String(load_default=None)


def _date() -> fields.Date:
    return fields.Date(required=True)


def _pence() -> fields.Integer:
    return fields.Integer(strict=True, required=True)


def _optional_pence() -> fields.Integer:
    return fields.Integer(strict=True, load_default=None)


class _Builds(Schema):
    """Refuses unknown keys and builds the dataclass ``builds``; JSON lists become tuples."""

    builds: ClassVar[type[Any]]

    class Meta:
        unknown = RAISE

    @post_load
    def _build(self, data: dict[str, Any], **kwargs: Any) -> Any:
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return self.builds(**values)


class _ActivityRatesSchema(_Builds):
    builds = ActivityRates
    hourly_pence = _optional_pence()
    half_day_pence = _optional_pence()
    day_pence = _optional_pence()


_activity_rates = _ActivityRatesSchema()


class _ByActivity(fields.Field[tuple[tuple[str, ActivityRates], ...]]):
    """Per-activity rates: a JSON object ``{"training": {"hourly_pence": 2000, …}}``."""

    def _serialize(
        self,
        value: tuple[tuple[str, ActivityRates], ...] | None,
        attr: str | None,
        obj: Any,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        if value is None:
            return None
        return {activity: _activity_rates.dump(rates) for activity, rates in value}

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> tuple[tuple[str, ActivityRates], ...]:
        if not isinstance(value, Mapping):
            raise ValidationError("Not a valid mapping.")
        pairs: list[tuple[str, ActivityRates]] = []
        errors: dict[str, Any] = {}
        for activity, rates in value.items():
            try:
                pairs.append((str(activity), _activity_rates.load(rates)))
            except ValidationError as error:
                errors[str(activity)] = error.messages
        if errors:
            raise ValidationError(errors)
        return tuple(pairs)


class _RateCardSchema(_Builds):
    builds = RateCard
    hourly_pence = _pence()
    half_day_pence = _optional_pence()
    day_pence = _optional_pence()
    by_activity = _ByActivity(load_default=())


class _ClaimLineSchema(_Builds):
    builds = ClaimLine
    worked_on = _date()
    hours = fields.Decimal(as_string=True, required=True)
    activity = _text()
    worker = _text()
    description = _text()
    amount_pence = _pence()
    rate_basis = _text()


class _ReceiptRefSchema(_Builds):
    builds = ReceiptRef
    sha256 = _text()
    media_type = _text()
    size_bytes = fields.Integer(strict=True, required=True)


class _ExpenseLineSchema(_Builds):
    builds = ExpenseLine
    category = _text()
    amount_pence = _pence()
    description = _text()
    # Added without a version bump: an expense without receipts is written exactly as before
    # (the key is left out), so events without receipts read the same to every consumer.
    receipts = fields.List(fields.Nested(_ReceiptRefSchema), load_default=())

    @post_dump
    def _omit_no_receipts(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if not data.get("receipts"):
            data.pop("receipts", None)
        return data


class _AllocationSchema(_Builds):
    builds = Allocation
    claim_id = _id()
    amount_pence = _pence()


def _lines() -> fields.List[Any]:
    return fields.List(fields.Nested(_ClaimLineSchema), required=True)


def _expenses() -> fields.List[Any]:
    return fields.List(fields.Nested(_ExpenseLineSchema), required=True)


def _allocations() -> fields.List[Any]:
    return fields.List(fields.Nested(_AllocationSchema), required=True)


# ---- event schemas, version 1 ----------------------------------------------------------------


class OrganisationRegisteredV1(_Builds):
    builds = OrganisationRegistered
    organisation_id = _id()
    name = _text()
    kind = _text()
    charity_number = _optional_text()
    company_number = _optional_text()
    contact_email = _optional_text()
    vat_number = _optional_text()
    peppol_id = _optional_text()


class OrganisationIdentifiersRecordedV1(_Builds):
    builds = OrganisationIdentifiersRecorded
    organisation_id = _id()
    charity_number = _optional_text()
    company_number = _optional_text()
    vat_number = _optional_text()
    peppol_id = _optional_text()


class PersonAddedV1(_Builds):
    builds = PersonAdded
    person_id = _id()
    organisation_id = _id()
    name = _text()
    email = _text()
    roles = fields.List(fields.String(), required=True)


class ApiTokensRevokedV1(_Builds):
    builds = ApiTokensRevoked
    person_id = _id()
    organisation_id = _id()
    token_digests = fields.List(fields.String(), required=True)


class PreferredLanguageChosenV1(_Builds):
    builds = PreferredLanguageChosen
    organisation_id = _id()
    person_id = _optional_text()
    language = _text()


class PartnershipFormedV1(_Builds):
    builds = PartnershipFormed
    partnership_id = _id()
    name = _text()
    organisation_ids = fields.List(fields.String(), required=True)


class AgreementSignedV1(_Builds):
    builds = AgreementSigned
    agreement_id = _id()
    partnership_id = _id()
    payer_id = _id()
    payee_id = _id()
    nation = _text()
    starts_on = _date()
    ends_on = _date()
    rates = fields.Nested(_RateCardSchema, required=True)
    budget_pence = _optional_pence()
    payment_terms_days = fields.Integer(strict=True, required=True)
    approval_sla_working_days = fields.Integer(strict=True, required=True)
    reminder_schedule = fields.List(fields.Integer(strict=True), required=True)


class AgreementAmendedV1(_Builds):
    builds = AgreementAmended
    agreement_id = _id()
    budget_pence = _optional_pence()
    ends_on = fields.Date(load_default=None)
    payment_terms_days = fields.Integer(strict=True, load_default=None)
    approval_sla_working_days = fields.Integer(strict=True, load_default=None)
    rates = fields.Nested(_RateCardSchema, load_default=None)
    reminder_schedule = fields.List(fields.Integer(strict=True), load_default=None)


class ClaimSubmittedV1(_Builds):
    builds = ClaimSubmitted
    claim_id = _id()
    agreement_id = _id()
    partnership_id = _id()
    payer_id = _id()
    payee_id = _id()
    submitted_by = _id()
    submitted_on = _date()
    lines = _lines()
    expenses = _expenses()
    amount_pence = _pence()
    approval_due = _date()
    payment_due = _date()


class ClaimAmendedV1(_Builds):
    builds = ClaimAmended
    claim_id = _id()
    amended_by = _id()
    amended_on = _date()
    lines = _lines()
    expenses = _expenses()
    amount_pence = _pence()
    answers_query = fields.Boolean(required=True)


class ClaimQueriedV1(_Builds):
    builds = ClaimQueried
    claim_id = _id()
    queried_by = _id()
    queried_on = _date()
    question = _text()


class ClaimQueryAnsweredV1(_Builds):
    builds = ClaimQueryAnswered
    claim_id = _id()
    answered_by = _id()
    answered_on = _date()
    answer = _text()


class ClaimApprovedV1(_Builds):
    builds = ClaimApproved
    claim_id = _id()
    approved_by = _id()
    approved_on = _date()
    amount_pence = _pence()
    claimed_pence = _pence()
    reason = _optional_text()


class ClaimRejectedV1(_Builds):
    builds = ClaimRejected
    claim_id = _id()
    rejected_by = _id()
    rejected_on = _date()
    reason = _text()


class ClaimWithdrawnV1(_Builds):
    builds = ClaimWithdrawn
    claim_id = _id()
    withdrawn_by = _id()
    withdrawn_on = _date()


class PaymentRecordedV1(_Builds):
    builds = PaymentRecorded
    payment_id = _id()
    partnership_id = _id()
    payer_id = _id()
    payee_id = _id()
    recorded_by = _id()
    paid_on = _date()
    reference = _text()
    amount_pence = _pence()
    allocations = _allocations()


class PaymentReversedV1(_Builds):
    builds = PaymentReversed
    payment_id = _id()
    partnership_id = _id()
    payer_id = _id()
    payee_id = _id()
    reversed_by = _id()
    reversed_on = _date()
    reason = _text()
    allocations = _allocations()


class PersonalDataErasedV1(_Builds):
    builds = PersonalDataErased
    erasure_id = _id()
    subjects = fields.List(fields.String(), required=True)
    reason = _text()
    erased_on = _date()


class InvoiceIssuedV1(_Builds):
    builds = InvoiceIssued
    invoice_id = _id()
    issuer_id = _id()
    payer_id = _id()
    partnership_id = _id()
    issued_by = _id()
    issued_on = _date()
    sequence = fields.Integer(strict=True, required=True)
    number = _text()
    claim_ids = fields.List(fields.String(), required=True)
    total_pence = _pence()
    paid_pence = _pence()
    due_on = _date()
    period = _optional_text()


# ---- registry --------------------------------------------------------------------------------

_SCHEMA_CLASSES: tuple[type[_Builds], ...] = (
    OrganisationRegisteredV1,
    PersonAddedV1,
    PreferredLanguageChosenV1,
    PartnershipFormedV1,
    AgreementSignedV1,
    AgreementAmendedV1,
    ClaimSubmittedV1,
    ClaimAmendedV1,
    ClaimQueriedV1,
    ClaimQueryAnsweredV1,
    ClaimApprovedV1,
    ClaimRejectedV1,
    ClaimWithdrawnV1,
    PaymentRecordedV1,
    PaymentReversedV1,
    PersonalDataErasedV1,
    InvoiceIssuedV1,
    OrganisationIdentifiersRecordedV1,
    ApiTokensRevokedV1,
)

#: (type, schema_version) → the schema that reads and writes that version.
SCHEMAS: dict[tuple[str, int], Schema] = {
    (cls.builds.event_type, 1): cls() for cls in _SCHEMA_CLASSES
}
#: The version each type is written at today.
CURRENT_VERSIONS: dict[str, int] = {cls.event_type: cls.schema_version for cls in ALL_EVENT_CLASSES}
EVENT_TYPES: tuple[str, ...] = tuple(CURRENT_VERSIONS)
#: (type, from_version) → a function turning that version's data into the next version's.
UPCASTERS: dict[tuple[str, int], Upcaster] = {}
#: Schema → its fast reader of plainly well-formed data, or None (see reader.py). Keyed by
#: the schema object, so a schema put in SCHEMAS later (a test's) gets its own.
_READERS: dict[Schema, Reader | None] = {}


def _reader(schema: Schema) -> Reader | None:
    if schema not in _READERS:
        _READERS[schema] = reader_for(schema)
    return _READERS[schema]


def to_data(event: Event) -> tuple[str, int, dict[str, Any]]:
    """The event's type, schema version and JSON-ready data (ISO dates, hours as strings)."""
    event_type = getattr(type(event), "event_type", None)
    if event_type not in CURRENT_VERSIONS or type(event).__name__ != event_type:
        raise TypeError(f"not a catalogued event: {event!r}")
    version = type(event).schema_version
    data: dict[str, Any] = SCHEMAS[(event_type, version)].dump(event)
    return event_type, version, data


def from_data(event_type: str, schema_version: int, data: Mapping[str, Any]) -> Event:
    """Rebuild an event from stored or received data, upcasting older versions first."""
    current = CURRENT_VERSIONS.get(event_type)
    if current is None:
        raise UnknownEventType(event_type)
    if (
        isinstance(schema_version, bool)
        or not isinstance(schema_version, int)
        or not 1 <= schema_version <= current
    ):
        raise UnsupportedSchemaVersion(event_type, schema_version)
    if not isinstance(data, Mapping):
        raise MalformedEvent(event_type, schema_version, "data must be a JSON object")
    payload = dict(data)
    version = schema_version
    while version < current:
        upcast = UPCASTERS.get((event_type, version))
        if upcast is None:
            raise UnsupportedSchemaVersion(event_type, schema_version)
        try:
            payload = upcast(payload)
        except (KeyError, TypeError, ValueError) as error:
            raise MalformedEvent(event_type, schema_version, f"cannot upcast: {error}") from error
        version += 1
    schema = SCHEMAS[(event_type, current)]
    read = _reader(schema)
    if read is not None:
        try:
            plain: Event = read(payload)
            return plain
        except NotPlain:
            pass  # the schema decides: it accepts, or refuses with the precise reason
    try:
        event: Event = schema.load(payload)
    except ValidationError as error:
        raise MalformedEvent(event_type, schema_version, _describe(error.messages)) from error
    return event


def new_event(event: Event) -> NewEvent:
    """The envelope for storing a freshly decided event."""
    event_type, version, data = to_data(event)
    return NewEvent(type=event_type, data=data, schema_version=version)


def from_stored(stored: StoredEvent) -> Event:
    """The event inside a stored envelope."""
    return from_data(stored.type, stored.schema_version, stored.data)


def _describe(messages: Any, prefix: str = "") -> str:
    """Flatten marshmallow's nested messages into ``path: message; …``."""
    if isinstance(messages, Mapping):
        parts = [
            _describe(inner, f"{prefix}.{key}" if prefix else str(key))
            for key, inner in messages.items()
        ]
        return "; ".join(parts)
    if isinstance(messages, list):
        if all(isinstance(m, str) for m in messages):
            return f"{prefix or 'data'}: {' '.join(messages)}"
        return "; ".join(_describe(m, prefix) for m in messages)
    return f"{prefix or 'data'}: {messages}"
