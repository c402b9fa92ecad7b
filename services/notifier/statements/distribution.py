"""Sending produced statements: the document to each statement subscriber (a PDF attached to
an email, or the JSON statement to a webhook), and a `statement_ready` alert to both sides.
Everything is queued in the caller's transaction, next to the statement's record, so a
crash either keeps all of it or none; the dispatcher sends."""

from __future__ import annotations

import base64
import html
from datetime import date, datetime

from babel.dates import format_date
from sqlalchemy import Connection

from shared import i18n
from shared.i18n import gettext, use_language

from ..alerts import raise_candidate
from ..delivery.queue import EMAIL, message_id, queue_delivery
from ..rules.candidates import (
    PAYER_FINANCE,
    STATEMENT_READY,
    VCSE_STAFF,
    AlertCandidate,
    Recipients,
)
from ..store.read_model import organisation_language
from .as_json import statement_to_json
from .model import ActivityStatement, Statement
from .production import monthly_statements
from .render import render


def _day(value: date) -> str:
    """'01 November 2026' / '01 Tachwedd 2026'."""
    return format_date(value, "dd MMMM y", locale=i18n.babel_locale())


def _describe(statement: Statement) -> str:
    parties = statement.parties
    if isinstance(statement.body, ActivityStatement):
        what = gettext(
            "Activity statement %(start)s to %(end)s",
            start=_day(statement.body.period_start),
            end=_day(statement.body.period_end),
        )
    else:
        what = gettext("Outstanding statement as at %(date)s", date=_day(statement.body.as_at))
    return gettext(
        "%(what)s: %(payee)s and %(payer)s",
        what=what,
        payee=parties.payee.name,
        payer=parties.payer.name,
    )


def _total_line(statement: Statement) -> str:
    body = statement.body
    if isinstance(body, ActivityStatement):
        return gettext("Closing balance %(amount)s.", amount=i18n.money(body.closing_pence))
    return gettext(
        "Open items %(open)s, of which %(overdue)s overdue.",
        open=i18n.money(body.open_pence),
        overdue=i18n.money(body.overdue_pence),
    )


def _email(statement: Statement) -> dict[str, object]:
    """The statement's email and PDF in the language of the moment."""
    description = _describe(statement)
    total = _total_line(statement)
    attached = gettext("The statement is attached.")
    pdf, content_type, filename = render(statement, "pdf")
    return {
        "subject": f"[Bridges] {description}",
        "text": f"{description}.\n{total}\n{attached}\n",
        "html": f"<p>{html.escape(description)}.</p><p>{html.escape(total)}</p>"
        f"<p>{html.escape(attached)}</p>",
        "attachments": [
            {
                "filename": filename,
                "content_type": content_type,
                "content_base64": base64.b64encode(pdf).decode("ascii"),
            }
        ],
    }


def distribute(connection: Connection, statement: Statement, now: datetime, as_of: date) -> int:
    """Queue the statement to its subscribers and raise `statement_ready`; how many queued."""
    queued = 0
    description = _describe(statement)  # the alert's title: English, as every alert's
    emails: dict[str | None, dict[str, object]] = {}  # one email (and PDF) per language
    for recipient in statement.recipients:
        if recipient.channel == EMAIL:
            language = organisation_language(connection, recipient.organisation_id)
            if language not in emails:
                with use_language(language):
                    emails[language] = _email(statement)
            payload: dict[str, object] = dict(emails[language])
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
