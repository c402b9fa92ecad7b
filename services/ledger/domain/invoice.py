"""E-invoices: a VCSE organisation invoices its payer for approved claims.

Design choices:
- The issuer is the VCSE organisation (the supplier); only its own people issue. The payer's
  approvers and finance officers may read it too.
- Each claim is invoiced at most once: asking again for a claim already invoiced (alone or in a
  month's invoice) answers that invoice; asking again for a month already invoiced answers that
  month's invoice. A new number is only ever taken for claims no invoice covers yet.
- Numbers run 1, 2, 3, … per issuer with no gaps: ``sequence`` is the issuer's invoice stream's
  version after the append, so two concurrent issues cannot take the same number.
- Amounts come from each claim's position (`shared.claim_position`) on the day of issue: the
  approved amount, less what was already paid. The lines are the claim's priced lines; a partial
  approval shows as an allowance with the approver's reason, so the lines, the allowances and the
  approved total agree.
- VAT: Bridges claims are for funded time and expenses of VCSE organisations; an organisation
  with no VAT number is not VAT-registered and its supply is outside the scope of VAT (EN 16931
  category "O"). One with a VAT number shows the supply as exempt (category "E", 0 %). Bridges
  never charges VAT: a standard-rated supply needs the organisation's own accounting package.
"""

from __future__ import annotations

import re
from calendar import monthrange
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import MINYEAR, date
from decimal import Decimal

from shared.claim_position import APPROVED
from shared.events.types import ClaimLine, ExpenseLine, InvoiceIssued
from shared.messages import N_

from .claim import Claim
from .errors import ValidationFailed
from .organisation import Organisation

NUMBER_PREFIX = "BRG"
_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")

OUTSIDE_SCOPE = "O"
EXEMPT = "E"
TAX_REASONS = {
    OUTSIDE_SCOPE: ("VATEX-EU-O", "Not subject to VAT: the supplier is not VAT-registered"),
    EXEMPT: (None, "Exempt from VAT"),
}


def invoice_number(sequence: int) -> str:
    """What an invoice shows as its number: the issuer's sequence, zero-padded."""
    return f"{NUMBER_PREFIX}-{sequence:05d}"


def read_month(value: object) -> tuple[str, date, date]:
    """A month as ``YYYY-MM``, with its first and last day."""
    if not isinstance(value, str) or not _MONTH.fullmatch(value):
        raise ValidationFailed.on("month", N_("must be a month as YYYY-MM, e.g. 2026-11"))
    year, month = int(value[:4]), int(value[5:])
    if year < MINYEAR:  # "0000-01" matches the pattern, but there was no year 0
        raise ValidationFailed.on("month", N_("must be a month as YYYY-MM, from 0001-01"))
    first = date(year, month, 1)
    return value, first, date(year, month, monthrange(year, month)[1])


def issue_invoice(
    invoice_id: str,
    *,
    issuer: Organisation,
    payer: Organisation,
    claims: Sequence[Claim],
    issued_invoices: int,
    by: str,
    today: date,
    period: str | None = None,
) -> InvoiceIssued:
    """The invoice for ``claims`` (one claim, or a month's), numbered after the issuer's
    ``issued_invoices`` earlier ones. Every claim must be approved, the issuer's to the payer."""
    if not claims:
        raise ValidationFailed.on("claims", N_("there are no approved claims to invoice"))
    for claim in claims:
        if claim.payee_id != issuer.id or claim.payer_id != payer.id:
            raise ValueError("a claim of another organisation or payer")  # callers filter
        if claim.status not in APPROVED:
            raise ValidationFailed.on("claim_id", N_("only an approved claim can be invoiced"))
    for organisation, field in ((issuer, "issuer"), (payer, "payer")):
        if electronic_address(organisation) is None:
            raise ValidationFailed.on(
                field,
                N_(
                    "%(name)s has no Peppol participant id (for example a GLN) and no "
                    "VAT number, so an e-invoice could not be addressed: record one of them",
                    name=organisation.name,
                ),
            )
    partnerships = {claim.partnership_id for claim in claims}
    positions = [claim.position_as_at(max(today, claim.submitted_on)) for claim in claims]
    total = sum(p.approved_pence for p in positions if p is not None)
    paid = sum(p.paid_pence for p in positions if p is not None)
    due = max(p.payment_due for p in positions if p is not None)
    sequence = issued_invoices + 1
    return InvoiceIssued(
        invoice_id=invoice_id,
        issuer_id=issuer.id,
        payer_id=payer.id,
        partnership_id=sorted(partnerships)[0],
        issued_by=by,
        issued_on=today,
        sequence=sequence,
        number=invoice_number(sequence),
        claim_ids=tuple(claim.id for claim in claims),
        total_pence=total,
        paid_pence=min(paid, total),
        due_on=due,
        period=period,
    )


def electronic_address(organisation: Organisation) -> tuple[str, str] | None:
    """The Peppol endpoint (EAS scheme, identifier): the organisation's Peppol participant id,
    else its UK VAT number (9932, which Peppol accepts as an address). Peppol does not accept
    an email address (EN 16931's EM), so an organisation with neither cannot be addressed."""
    if organisation.peppol_id:
        scheme, _, identifier = organisation.peppol_id.partition(":")
        return scheme, identifier
    if organisation.vat_number:
        return "9932", organisation.vat_number
    return None


def tax_category(issuer: Organisation) -> str:
    """O (outside the scope of VAT) for an organisation not VAT-registered, else E (exempt)."""
    return EXEMPT if issuer.vat_number else OUTSIDE_SCOPE


# ---- the invoice as a document: what the UBL and the PDF show ---------------------------------


@dataclass(frozen=True)
class InvoiceLine:
    claim_id: str
    name: str
    note: str
    amount_pence: int
    on: date | None = None
    hours: Decimal | None = None


@dataclass(frozen=True)
class Allowance:
    claim_id: str
    reason: str
    amount_pence: int


@dataclass(frozen=True)
class InvoiceDocument:
    """Everything an invoice shows, from its event, its claims and the two organisations."""

    event: InvoiceIssued
    issuer: Organisation
    payer: Organisation
    lines: tuple[InvoiceLine, ...]
    allowances: tuple[Allowance, ...]
    period_start: date | None  # when the work was done (a month's invoice)
    period_end: date | None
    buyer_reference: str

    @property
    def line_total_pence(self) -> int:
        return sum(line.amount_pence for line in self.lines)

    @property
    def allowance_total_pence(self) -> int:
        return sum(a.amount_pence for a in self.allowances)

    @property
    def total_pence(self) -> int:
        """Without VAT and with it: Bridges never charges VAT."""
        return self.event.total_pence

    @property
    def payable_pence(self) -> int:
        return self.event.total_pence - self.event.paid_pence

    @property
    def tax_category(self) -> str:
        return tax_category(self.issuer)


def claim_reference(claim_id: str) -> str:
    return claim_id[:8].upper()


def invoice_document(
    event: InvoiceIssued, issuer: Organisation, payer: Organisation, claims: Sequence[Claim]
) -> InvoiceDocument:
    """The invoice ``event`` recorded, with the lines of its claims (in its order)."""
    by_id = {claim.id: claim for claim in claims}
    lines: list[InvoiceLine] = []
    allowances: list[Allowance] = []
    for claim_id in event.claim_ids:
        claim = by_id[claim_id]
        lines.extend(_time_line(claim, line) for line in claim.lines)
        lines.extend(_expense_line(claim, expense) for expense in claim.expenses)
        position = claim.position_as_at(max(event.issued_on, claim.submitted_on))
        approved = position.approved_pence if position is not None else 0
        cut = sum(line.amount_pence for line in claim.lines) + sum(
            e.amount_pence for e in claim.expenses
        )
        if approved < cut:
            reason = claim.decision_reason or "Approved in part"
            allowances.append(
                Allowance(claim_id, f"Claim {claim_reference(claim_id)}: {reason}", cut - approved)
            )
    # A month's invoice covers the claims approved that month; its invoice period is when the
    # work was done (each line's day lies within it, as Peppol requires).
    start = end = None
    if event.period is not None:
        days = [line.on for line in lines if line.on is not None]
        _, start, end = read_month(event.period)
        if days:
            start, end = min(days), max(days)
    references = ", ".join(claim_reference(claim_id) for claim_id in event.claim_ids)
    return InvoiceDocument(
        event=event,
        issuer=issuer,
        payer=payer,
        lines=tuple(lines),
        allowances=tuple(allowances),
        period_start=start,
        period_end=end,
        buyer_reference=f"Bridges claims {references}"[:200],
    )


_ACTIVITY_NAMES = {
    "co_design": "Co-design",
    "peer_learning": "Peer learning",
    "buddy_scheme": "Buddy scheme",
}


def _activity(activity: str) -> str:
    return _ACTIVITY_NAMES.get(activity, activity.replace("_", " ").capitalize())


def _time_line(claim: Claim, line: ClaimLine) -> InvoiceLine:
    basis = {"day": "day rate", "half_day": "half-day rate"}.get(line.rate_basis, "hourly rate")
    return InvoiceLine(
        claim_id=claim.id,
        name=f"{_activity(line.activity)}: {line.worker}",
        note=f"Claim {claim_reference(claim.id)}, {line.hours} hours at the {basis}: "
        f"{line.description}",
        amount_pence=line.amount_pence,
        on=line.worked_on,
        hours=line.hours,
    )


def _expense_line(claim: Claim, expense: ExpenseLine) -> InvoiceLine:
    return InvoiceLine(
        claim_id=claim.id,
        name=f"Expense: {_activity(expense.category)}",
        note=f"Claim {claim_reference(claim.id)}: {expense.description}",
        amount_pence=expense.amount_pence,
    )
