"""Sending produced statements: the document to each statement subscriber (a PDF attached to
an email, or the JSON statement to a webhook), and a `statement_ready` alert to both sides.
Everything is queued in the caller's transaction, next to the statement's record, so a
crash either keeps all of it or none; the dispatcher sends."""

from __future__ import annotations

import base64
from datetime import date, datetime

from sqlalchemy import Connection

from shared.money import format_pence

from ..alerts import raise_candidate
from ..delivery.queue import EMAIL, message_id, queue_delivery
from ..rules.candidates import (
    PAYER_FINANCE,
    STATEMENT_READY,
    VCSE_STAFF,
    AlertCandidate,
    Recipients,
)
from .as_json import statement_to_json
from .model import ActivityStatement, Statement
from .production import monthly_statements
from .render import render


def _describe(statement: Statement) -> str:
    parties = statement.parties
    if isinstance(statement.body, ActivityStatement):
        what = (
            f"Activity statement {statement.body.period_start:%d %B %Y} to "
            f"{statement.body.period_end:%d %B %Y}"
        )
    else:
        what = f"Outstanding statement as at {statement.body.as_at:%d %B %Y}"
    return f"{what}: {parties.payee.name} and {parties.payer.name}"


def _total_line(statement: Statement) -> str:
    body = statement.body
    if isinstance(body, ActivityStatement):
        return f"Closing balance {format_pence(body.closing_pence)}."
    overdue = format_pence(body.overdue_pence)
    return f"Open items {format_pence(body.open_pence)}, of which {overdue} overdue."


def distribute(connection: Connection, statement: Statement, now: datetime, as_of: date) -> int:
    """Queue the statement to its subscribers and raise `statement_ready`; how many queued."""
    queued = 0
    description = _describe(statement)
    pdf, content_type, filename = render(statement, "pdf")
    for recipient in statement.recipients:
        if recipient.channel == EMAIL:
            payload: dict[str, object] = {
                "subject": f"[Bridges] {description}",
                "text": f"{description}.\n{_total_line(statement)}\nThe statement is attached.\n",
                "html": f"<p>{description}.</p><p>{_total_line(statement)}</p>"
                "<p>The statement is attached.</p>",
                "attachments": [
                    {
                        "filename": filename,
                        "content_type": content_type,
                        "content_base64": base64.b64encode(pdf).decode("ascii"),
                    }
                ],
            }
        else:
            payload = {
                "type": "statement.ready",
                "timestamp": statement.produced_at.isoformat(),
                "data": statement_to_json(statement),
            }
        queued += queue_delivery(
            connection,
            channel=recipient.channel,
            recipient=recipient.target,
            message_id=message_id(statement.id, recipient.channel, recipient.target),
            payload=payload,
            now=now,
            statement_id=statement.id,
            subscription_id=recipient.subscription_id,
        )
    parties = statement.parties
    raise_candidate(
        connection,
        AlertCandidate(
            subject_id=statement.id,
            kind=STATEMENT_READY,
            level=statement.period_end.isoformat(),
            partnership_id=parties.partnership.id,
            payer_id=parties.payer.id,
            payee_id=parties.payee.id,
            claim_id=None,
            agreement_id=None,
            title=description,
            detail={"statement_id": statement.id, "kind": statement.kind},
            audience=(
                Recipients(parties.payer.id, PAYER_FINANCE),
                Recipients(parties.payee.id, VCSE_STAFF),
            ),
        ),
        now,
        as_of,
    )
    return queued


def send_monthly_statements(connection: Connection, as_of: date, now: datetime) -> list[Statement]:
    """On the first working day of a month: produce last month's statements, queue them to
    their subscribers and tell both sides. Idempotent per month."""
    produced = monthly_statements(connection, as_of, now)
    for statement in produced:
        distribute(connection, statement, now, as_of)
    return produced
