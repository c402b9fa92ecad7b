"""The events of Bridges: past-tense facts, the contract between the ledger and the notifier.

Each class name is its stable type string (``event_type``) and carries its ``schema_version``;
``shared.events.catalogue`` turns them into JSON and back. Dates are ``date``, hours ``Decimal``,
money ``int`` pence, ids UUID strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import ClassVar, TypeAlias

ORGANISATION_KINDS = ("vcse", "statutory")
# The languages an organisation or a person may choose for emails and statements.
PREFERRED_LANGUAGES = ("cy", "en")
ROLES = ("vcse_member", "vcse_admin", "approver", "finance", "partner_viewer", "operator")
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
RATE_BASES = ("hourly", "half_day", "day")
# Days relative to payment due: 3 days before, then 1, 7, 14 and 21 days overdue.
DEFAULT_REMINDER_SCHEDULE: tuple[int, ...] = (-3, 1, 7, 14, 21)


# ---- values carried inside events ----------------------------------------------------------


@dataclass(frozen=True)
class ActivityRates:
    """One activity's own rates; None means "use the default card's rate of that kind"."""

    hourly_pence: int | None = None
    half_day_pence: int | None = None
    day_pence: int | None = None


@dataclass(frozen=True)
class RateCard:
    """Default rates plus per-activity overrides, kept sorted by activity for stable equality."""

    hourly_pence: int
    half_day_pence: int | None = None
    day_pence: int | None = None
    by_activity: tuple[tuple[str, ActivityRates], ...] = ()

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.by_activity, key=lambda pair: pair[0]))
        object.__setattr__(self, "by_activity", ordered)

    @classmethod
    def of(
        cls,
        hourly_pence: int,
        half_day_pence: int | None = None,
        day_pence: int | None = None,
        by_activity: Mapping[str, ActivityRates] | None = None,
    ) -> RateCard:
        """Build a card from a mapping of activity overrides."""
        return cls(hourly_pence, half_day_pence, day_pence, tuple((by_activity or {}).items()))

    def for_activity(self, activity: str) -> ActivityRates | None:
        """The activity's own rates, if it has any."""
        return dict(self.by_activity).get(activity)


@dataclass(frozen=True)
class ClaimLine:
    worked_on: date
    hours: Decimal
    activity: str
    worker: str
    description: str
    amount_pence: int
    rate_basis: str  # hourly | half_day | day


@dataclass(frozen=True)
class ReceiptRef:
    """A receipt attached to an expense line: a reference to stored bytes, never the bytes.

    ``sha256`` is the hex SHA-256 of the stored file (after metadata was stripped), so the
    history says exactly which file was attached even after the bytes are erased."""

    sha256: str
    media_type: str  # image/jpeg | image/png | application/pdf
    size_bytes: int


@dataclass(frozen=True)
class ExpenseLine:
    category: str
    amount_pence: int
    description: str
    receipts: tuple[ReceiptRef, ...] = ()


@dataclass(frozen=True)
class Allocation:
    claim_id: str
    amount_pence: int


# ---- organisations and agreements ------------------------------------------------------------


@dataclass(frozen=True)
class OrganisationRegistered:
    event_type: ClassVar[str] = "OrganisationRegistered"
    schema_version: ClassVar[int] = 1

    organisation_id: str
    name: str
    kind: str  # vcse | statutory
    charity_number: str | None = None
    company_number: str | None = None
    contact_email: str | None = None
    vat_number: str | None = None  # a UK VAT registration number, if registered
    peppol_id: str | None = None  # a Peppol participant id, "scheme:identifier" (e-invoices)


@dataclass(frozen=True)
class OrganisationIdentifiersRecorded:
    """An organisation's identifiers as they now stand (each None when it has none): what its
    e-invoices show and where they are addressed."""

    event_type: ClassVar[str] = "OrganisationIdentifiersRecorded"
    schema_version: ClassVar[int] = 1

    organisation_id: str
    charity_number: str | None = None
    company_number: str | None = None
    vat_number: str | None = None
    peppol_id: str | None = None


@dataclass(frozen=True)
class PersonAdded:
    event_type: ClassVar[str] = "PersonAdded"
    schema_version: ClassVar[int] = 1

    person_id: str
    organisation_id: str
    name: str
    email: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class ApiTokensRevoked:
    """API tokens of a person the ledger no longer honours, by the SHA-256 digest it stored
    (shared/tokens.py `hash_token`): the notifier refuses them too. A digest of 256 random bits
    reveals nothing about the token."""

    event_type: ClassVar[str] = "ApiTokensRevoked"
    schema_version: ClassVar[int] = 1

    person_id: str
    organisation_id: str
    token_digests: tuple[str, ...]


@dataclass(frozen=True)
class PreferredLanguageChosen:
    """The language (`cy` or `en`) an organisation, or one of its people when `person_id` is
    set, chose for its emails and statements (Welsh Language Standards)."""

    event_type: ClassVar[str] = "PreferredLanguageChosen"
    schema_version: ClassVar[int] = 1

    organisation_id: str
    person_id: str | None
    language: str


@dataclass(frozen=True)
class PartnershipFormed:
    event_type: ClassVar[str] = "PartnershipFormed"
    schema_version: ClassVar[int] = 1

    partnership_id: str
    name: str
    organisation_ids: tuple[str, ...]


@dataclass(frozen=True)
class AgreementSigned:
    event_type: ClassVar[str] = "AgreementSigned"
    schema_version: ClassVar[int] = 1

    agreement_id: str
    partnership_id: str
    payer_id: str
    payee_id: str
    nation: str
    starts_on: date
    ends_on: date
    rates: RateCard
    budget_pence: int | None
    payment_terms_days: int
    approval_sla_working_days: int
    reminder_schedule: tuple[int, ...] = DEFAULT_REMINDER_SCHEDULE


@dataclass(frozen=True)
class AgreementAmended:
    """Only the terms that changed; None means unchanged."""

    event_type: ClassVar[str] = "AgreementAmended"
    schema_version: ClassVar[int] = 1

    agreement_id: str
    budget_pence: int | None = None
    ends_on: date | None = None
    payment_terms_days: int | None = None
    approval_sla_working_days: int | None = None
    rates: RateCard | None = None
    reminder_schedule: tuple[int, ...] | None = None


# ---- claims ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimSubmitted:
    event_type: ClassVar[str] = "ClaimSubmitted"
    schema_version: ClassVar[int] = 1

    claim_id: str
    agreement_id: str
    partnership_id: str
    payer_id: str
    payee_id: str
    submitted_by: str
    submitted_on: date
    lines: tuple[ClaimLine, ...]
    expenses: tuple[ExpenseLine, ...]
    amount_pence: int
    approval_due: date
    payment_due: date  # before any query extends it

    @property
    def effective_on(self) -> date:
        """The day this fact takes effect."""
        return self.submitted_on


@dataclass(frozen=True)
class ClaimAmended:
    event_type: ClassVar[str] = "ClaimAmended"
    schema_version: ClassVar[int] = 1

    claim_id: str
    amended_by: str
    amended_on: date
    lines: tuple[ClaimLine, ...]
    expenses: tuple[ExpenseLine, ...]
    amount_pence: int
    answers_query: bool = False

    @property
    def effective_on(self) -> date:
        """The day this fact takes effect."""
        return self.amended_on


@dataclass(frozen=True)
class ClaimQueried:
    event_type: ClassVar[str] = "ClaimQueried"
    schema_version: ClassVar[int] = 1

    claim_id: str
    queried_by: str
    queried_on: date
    question: str

    @property
    def effective_on(self) -> date:
        """The day this fact takes effect."""
        return self.queried_on


@dataclass(frozen=True)
class ClaimQueryAnswered:
    event_type: ClassVar[str] = "ClaimQueryAnswered"
    schema_version: ClassVar[int] = 1

    claim_id: str
    answered_by: str
    answered_on: date
    answer: str

    @property
    def effective_on(self) -> date:
        """The day this fact takes effect."""
        return self.answered_on


@dataclass(frozen=True)
class ClaimApproved:
    """A partial approval has amount_pence < claimed_pence and a reason."""

    event_type: ClassVar[str] = "ClaimApproved"
    schema_version: ClassVar[int] = 1

    claim_id: str
    approved_by: str
    approved_on: date
    amount_pence: int
    claimed_pence: int
    reason: str | None = None

    @property
    def effective_on(self) -> date:
        """The day this fact takes effect."""
        return self.approved_on


@dataclass(frozen=True)
class ClaimRejected:
    event_type: ClassVar[str] = "ClaimRejected"
    schema_version: ClassVar[int] = 1

    claim_id: str
    rejected_by: str
    rejected_on: date
    reason: str

    @property
    def effective_on(self) -> date:
        """The day this fact takes effect."""
        return self.rejected_on


@dataclass(frozen=True)
class ClaimWithdrawn:
    event_type: ClassVar[str] = "ClaimWithdrawn"
    schema_version: ClassVar[int] = 1

    claim_id: str
    withdrawn_by: str
    withdrawn_on: date

    @property
    def effective_on(self) -> date:
        """The day this fact takes effect."""
        return self.withdrawn_on


# ---- payments --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentRecorded:
    event_type: ClassVar[str] = "PaymentRecorded"
    schema_version: ClassVar[int] = 1

    payment_id: str
    partnership_id: str
    payer_id: str
    payee_id: str
    recorded_by: str
    paid_on: date
    reference: str
    amount_pence: int
    allocations: tuple[Allocation, ...]

    @property
    def effective_on(self) -> date:
        """The day this fact takes effect."""
        return self.paid_on


@dataclass(frozen=True)
class PaymentReversed:
    event_type: ClassVar[str] = "PaymentReversed"
    schema_version: ClassVar[int] = 1

    payment_id: str
    partnership_id: str
    payer_id: str
    payee_id: str
    reversed_by: str
    reversed_on: date
    reason: str
    allocations: tuple[Allocation, ...]

    @property
    def effective_on(self) -> date:
        """The day this fact takes effect."""
        return self.reversed_on


# ---- personal data ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonalDataErased:
    """The data keys of these subjects (``person:<id>``, ``claim:<id>``) were destroyed: their
    personal fields now read "erased" everywhere. Names no one: ids and the reason only."""

    event_type: ClassVar[str] = "PersonalDataErased"
    schema_version: ClassVar[int] = 1

    erasure_id: str
    subjects: tuple[str, ...]
    reason: str  # request | retention
    erased_on: date

    @property
    def effective_on(self) -> date:
        """The day this fact takes effect."""
        return self.erased_on


# ---- invoices --------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceIssued:
    """A VCSE organisation issued an e-invoice to its payer for approved claims.

    ``sequence`` counts the issuer's invoices from 1 with no gaps (its invoice stream's
    version); ``number`` is what the invoice shows. ``period`` is the month (``YYYY-MM``) of a
    monthly invoice, None for one claim's. The amounts are as at ``issued_on``: the approved
    total and what was already paid then; the lines come from the claims, which cannot change
    once approved."""

    event_type: ClassVar[str] = "InvoiceIssued"
    schema_version: ClassVar[int] = 1

    invoice_id: str
    issuer_id: str
    payer_id: str
    partnership_id: str
    issued_by: str
    issued_on: date
    sequence: int
    number: str
    claim_ids: tuple[str, ...]
    total_pence: int
    paid_pence: int
    due_on: date
    period: str | None = None

    @property
    def effective_on(self) -> date:
        """The day this fact takes effect."""
        return self.issued_on


ClaimEvent: TypeAlias = (
    ClaimSubmitted
    | ClaimAmended
    | ClaimQueried
    | ClaimQueryAnswered
    | ClaimApproved
    | ClaimRejected
    | ClaimWithdrawn
)
PaymentEvent: TypeAlias = PaymentRecorded | PaymentReversed
AgreementEvent: TypeAlias = AgreementSigned | AgreementAmended
Event: TypeAlias = (
    OrganisationRegistered
    | OrganisationIdentifiersRecorded
    | PersonAdded
    | ApiTokensRevoked
    | PreferredLanguageChosen
    | PartnershipFormed
    | AgreementEvent
    | ClaimEvent
    | PaymentEvent
    | PersonalDataErased
    | InvoiceIssued
)

ALL_EVENT_CLASSES: tuple[type[Event], ...] = (
    OrganisationRegistered,
    PersonAdded,
    PreferredLanguageChosen,
    PartnershipFormed,
    AgreementSigned,
    AgreementAmended,
    ClaimSubmitted,
    ClaimAmended,
    ClaimQueried,
    ClaimQueryAnswered,
    ClaimApproved,
    ClaimRejected,
    ClaimWithdrawn,
    PaymentRecorded,
    PaymentReversed,
    PersonalDataErased,
    InvoiceIssued,
    OrganisationIdentifiersRecorded,
    ApiTokensRevoked,
)
