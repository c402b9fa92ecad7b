"""Balance statements as values: what both sides of a funding relationship see, in any format."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from ..base_rate_notice import BaseRateNotice

ACTIVITY = "activity"
OUTSTANDING = "outstanding"
KINDS = (ACTIVITY, OUTSTANDING)
MONTHLY = "monthly"
ON_DEMAND = "on_demand"
TRIGGERS = (MONTHLY, ON_DEMAND)

# How an open item stands: approved (less any payments) or still waiting for a decision.
APPROVED = "approved"
AWAITING_APPROVAL = "awaiting approval"

# Activity line kinds and the way each moves the balance owed.
LINE_APPROVED = "approved"
LINE_PAYMENT = "payment"
LINE_REVERSAL = "reversal"
_LINE_SIGN = {LINE_APPROVED: 1, LINE_PAYMENT: -1, LINE_REVERSAL: 1}


@dataclass(frozen=True)
class Party:
    id: str
    name: str


@dataclass(frozen=True)
class Parties:
    """Whose statement: one VCSE organisation (payee) and one payer inside one partnership."""

    partnership: Party
    payee: Party
    payer: Party


@dataclass(frozen=True)
class ActivityLine:
    """One movement of the balance owed; ``amount_pence`` is positive, ``kind`` gives the way."""

    on: date
    kind: str  # approved | payment | reversal
    claim_id: str
    reference: str  # the remittance reference of a payment or reversal; "" for an approval
    description: str
    amount_pence: int
    payment_id: str | None = None

    @property
    def signed_pence(self) -> int:
        return _LINE_SIGN[self.kind] * self.amount_pence


@dataclass(frozen=True)
class ActivityStatement:
    """Movements of the approved balance owed over [period_start, period_end].

    The balance is approved − paid + reversed (what the payer has accepted and not yet paid):
    opening + approved − paid + reversed = closing. Claims still awaiting approval are not
    in it; they are shown beside it (``*_awaiting_approval_pence``) and on the outstanding
    statement.
    """

    parties: Parties
    period_start: date
    period_end: date
    opening_pence: int
    lines: tuple[ActivityLine, ...]
    approved_pence: int
    paid_pence: int
    reversed_pence: int
    closing_pence: int
    opening_awaiting_approval_pence: int
    closing_awaiting_approval_pence: int

    def running_balances(self) -> list[int]:
        """The balance after each line, in order (the last is the closing balance)."""
        balances = []
        balance = self.opening_pence
        for line in self.lines:
            balance += line.signed_pence
            balances.append(balance)
        return balances


@dataclass(frozen=True)
class OutstandingItem:
    """One open claim as at the statement date."""

    claim_id: str
    standing: str  # approved | awaiting approval
    status: str  # the claim's status: submitted, queried, approved, part_paid
    receipt: date  # the date the claim was submitted
    payment_due: date  # receipt + terms + days queried (the dispute clock)
    days_overdue: int
    bucket: str
    claimed_pence: int
    approved_pence: int
    paid_pence: int
    open_pence: int  # approved − paid, or the claimed amount while awaiting approval
    interest_pence: int
    compensation_pence: int
    interest_rate_percent: Decimal | None  # base rate + 8, once the claim has been overdue
    interest_reference_date: date | None = None  # the day whose base rate the interest uses

    @property
    def overdue_pence(self) -> int:
        return self.open_pence if self.days_overdue > 0 else 0


@dataclass(frozen=True)
class BucketTotal:
    bucket: str
    items: int
    open_pence: int
    interest_pence: int
    compensation_pence: int


@dataclass(frozen=True)
class OutstandingStatement:
    """Every open item as at ``as_at``, aged; ``open_pence`` equals the ledger's balance
    (outstanding + awaiting approval) for the same scope and date."""

    parties: Parties
    as_at: date
    items: tuple[OutstandingItem, ...]
    buckets: tuple[BucketTotal, ...]  # every aging bucket, in order, zeros included
    open_pence: int
    approved_outstanding_pence: int
    awaiting_approval_pence: int
    overdue_pence: int
    interest_pence: int
    compensation_pence: int
    # Whether the interest's reference dates are within the base rate data's confirmed_to.
    base_rates: BaseRateNotice | None = None


@dataclass(frozen=True)
class Recipient:
    """A subscription the statement is for (delivery is the caller's business)."""

    subscription_id: str
    organisation_id: str
    channel: str  # email | webhook
    target: str


@dataclass(frozen=True)
class Statement:
    """A produced statement: its record's identity, how it came about, and its content."""

    id: str
    kind: str  # activity | outstanding
    trigger: str  # monthly | on_demand
    produced_at: datetime
    body: ActivityStatement | OutstandingStatement
    recipients: tuple[Recipient, ...] = ()

    @property
    def parties(self) -> Parties:
        return self.body.parties

    @property
    def period_start(self) -> date | None:
        return self.body.period_start if isinstance(self.body, ActivityStatement) else None

    @property
    def period_end(self) -> date:
        """The last day covered: the period's end, or the outstanding statement's date."""
        if isinstance(self.body, ActivityStatement):
            return self.body.period_end
        return self.body.as_at
