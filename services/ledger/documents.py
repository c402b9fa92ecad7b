"""The documents the ledger answers with: claims, agreements and payments as JSON-ready
dicts (the API's schemas and the web pages render them), and the opaque paging cursor."""

from __future__ import annotations

import base64
from datetime import date
from typing import Any

from shared.events.types import ReceiptRef

from .domain.agreement import Agreement
from .domain.claim import Claim
from .domain.errors import ValidationFailed
from .domain.payment import Payment


def encode_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"p{position}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.startswith("p"):
            raise ValueError(cursor)
        return int(raw[1:])
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed.on("cursor", "not a cursor this service issued") from exc


def claim_view(claim: Claim, today: date) -> dict[str, Any]:
    return {
        "id": claim.id,
        "agreement_id": claim.agreement_id,
        "partnership_id": claim.partnership_id,
        "payer_id": claim.payer_id,
        "payee_id": claim.payee_id,
        "status": claim.status,
        "version": claim.version,
        "amount_pence": claim.amount_pence,
        "approved_pence": claim.approved_pence,
        "paid_pence": claim.paid_pence,
        "outstanding_pence": claim.outstanding_pence,
        "submitted_by": claim.submitted_by,
        "submitted_on": claim.submitted_on,
        "approval_due": claim.approval_due,
        "payment_due": claim.payment_due(today),
        "open_question": claim.open_question,
        "decision_reason": claim.decision_reason,
        "lines": [
            {
                "worked_on": line.worked_on,
                "hours": str(line.hours),
                "activity": line.activity,
                "worker": line.worker,
                "description": line.description,
                "amount_pence": line.amount_pence,
                "rate_basis": line.rate_basis,
            }
            for line in claim.lines
        ],
        "expenses": [
            {
                "category": e.category,
                "amount_pence": e.amount_pence,
                "description": e.description,
                "receipts": [receipt_view(claim.id, ref) for ref in e.receipts],
            }
            for e in claim.expenses
        ],
    }


def receipt_view(claim_id: str, ref: ReceiptRef) -> dict[str, Any]:
    """A receipt as the claim shows it: its id (the SHA-256), type, size and where to get it."""
    return {
        "id": ref.sha256,
        "sha256": ref.sha256,
        "media_type": ref.media_type,
        "size_bytes": ref.size_bytes,
        "href": f"/api/v1/claims/{claim_id}/receipts/{ref.sha256}",
    }


def agreement_view(agreement: Agreement, *, version: int) -> dict[str, Any]:
    rates = agreement.rates
    return {
        "id": agreement.id,
        "partnership_id": agreement.partnership_id,
        "payer_id": agreement.payer_id,
        "payee_id": agreement.payee_id,
        "nation": agreement.nation,
        "starts_on": agreement.starts_on,
        "ends_on": agreement.ends_on,
        "rates": {
            "hourly_pence": rates.hourly_pence,
            "half_day_pence": rates.half_day_pence,
            "day_pence": rates.day_pence,
            "by_activity": {
                activity: {
                    "hourly_pence": r.hourly_pence,
                    "half_day_pence": r.half_day_pence,
                    "day_pence": r.day_pence,
                }
                for activity, r in dict(rates.by_activity).items()
            },
        },
        "budget_pence": agreement.budget_pence,
        "payment_terms_days": agreement.payment_terms_days,
        "approval_sla_working_days": agreement.approval_sla_working_days,
        "reminder_schedule": list(agreement.reminder_schedule),
        "version": version,
    }


def payment_view(payment: Payment) -> dict[str, Any]:
    return {
        "id": payment.id,
        "partnership_id": payment.partnership_id,
        "payer_id": payment.payer_id,
        "payee_id": payment.payee_id,
        "paid_on": payment.paid_on,
        "reference": payment.reference,
        "amount_pence": payment.amount_pence,
        "allocations": [
            {"claim_id": a.claim_id, "amount_pence": a.amount_pence} for a in payment.allocations
        ],
        "reversed": payment.reversed,
        "reversal_reason": payment.reversal_reason,
    }
