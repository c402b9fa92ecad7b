"""A statement as a JSON-ready dict: ISO dates, integer pence, decimals as strings."""

from __future__ import annotations

from typing import Any

from ..indicators.benchmarks import BENCHMARKS_LINE
from ..interest import INTEREST_NOTE
from .model import ActivityStatement, OutstandingStatement, Parties, Statement


def _parties(parties: Parties) -> dict[str, Any]:
    return {
        "partnership": {"id": parties.partnership.id, "name": parties.partnership.name},
        "payee": {"id": parties.payee.id, "name": parties.payee.name},
        "payer": {"id": parties.payer.id, "name": parties.payer.name},
    }


def _activity(body: ActivityStatement) -> dict[str, Any]:
    return {
        "period": {"start": body.period_start.isoformat(), "end": body.period_end.isoformat()},
        "opening_balance_pence": body.opening_pence,
        "lines": [
            {
                "date": line.on.isoformat(),
                "type": line.kind,
                "claim_id": line.claim_id,
                "payment_id": line.payment_id,
                "reference": line.reference,
                "description": line.description,
                "amount_pence": line.amount_pence,
                "balance_change_pence": line.signed_pence,
                "balance_after_pence": balance,
            }
            for line, balance in zip(body.lines, body.running_balances(), strict=True)
        ],
        "totals": {
            "approved_pence": body.approved_pence,
            "paid_pence": body.paid_pence,
            "reversed_pence": body.reversed_pence,
        },
        "closing_balance_pence": body.closing_pence,
        "awaiting_approval": {
            "opening_pence": body.opening_awaiting_approval_pence,
            "closing_pence": body.closing_awaiting_approval_pence,
        },
    }


def _outstanding(body: OutstandingStatement) -> dict[str, Any]:
    return {
        "as_at": body.as_at.isoformat(),
        "items": [
            {
                "claim_id": item.claim_id,
                "standing": item.standing,
                "status": item.status,
                "receipt": item.receipt.isoformat(),
                "payment_due": item.payment_due.isoformat(),
                "days_overdue": item.days_overdue,
                "bucket": item.bucket,
                "claimed_pence": item.claimed_pence,
                "approved_pence": item.approved_pence,
                "paid_pence": item.paid_pence,
                "open_pence": item.open_pence,
                "interest_pence": item.interest_pence,
                "compensation_pence": item.compensation_pence,
                "interest_rate_percent": None
                if item.interest_rate_percent is None
                else str(item.interest_rate_percent),
            }
            for item in body.items
        ],
        "buckets": {
            total.bucket: {
                "items": total.items,
                "open_pence": total.open_pence,
                "interest_pence": total.interest_pence,
                "compensation_pence": total.compensation_pence,
            }
            for total in body.buckets
        },
        "totals": {
            "items": len(body.items),
            "open_pence": body.open_pence,
            "approved_outstanding_pence": body.approved_outstanding_pence,
            "awaiting_approval_pence": body.awaiting_approval_pence,
            "overdue_pence": body.overdue_pence,
            "interest_pence": body.interest_pence,
            "compensation_pence": body.compensation_pence,
        },
        "interest_note": INTEREST_NOTE,
        "base_rate_data": None if body.base_rates is None else body.base_rates.to_json(),
    }


def statement_to_json(statement: Statement) -> dict[str, Any]:
    """The statement as a dict for `json.dumps` (and the API's response body)."""
    body = statement.body
    content = _activity(body) if isinstance(body, ActivityStatement) else _outstanding(body)
    return {
        "id": statement.id,
        "kind": statement.kind,
        "trigger": statement.trigger,
        "produced_at": statement.produced_at.isoformat(),
        **_parties(statement.parties),
        **content,
        "benchmarks": BENCHMARKS_LINE,
    }
