"""Alert emails: rendered when queued (so every retry sends the same words), sent over SMTP.

The Message-ID header carries the delivery's stable message id, so a retried email is the same
message to the receiving side.
"""

from __future__ import annotations

import base64
import html
import smtplib
import ssl
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import TYPE_CHECKING, Any

from services.notifier.rules.wording import shown_title
from shared import clock as product_clock
from shared import i18n
from shared.i18n import N_, gettext, ngettext

if TYPE_CHECKING:
    from services.notifier.alerts.records import Alert
    from services.notifier.settings import NotifierSettings

SUBJECT_PREFIX = "[Bridges] "

# Detail fields worth a line in an email, in this order, with how to show them.
_LINES: tuple[tuple[str, str, str], ...] = (
    ("payee_name", N_("VCSE organisation"), "text"),
    ("payer_name", N_("Payer"), "text"),
    ("claim_id", N_("Claim"), "text"),
    ("status", N_("Status"), "text"),
    ("submitted_on", N_("Submitted"), "date"),
    ("approval_due", N_("Approval due"), "date"),
    ("payment_due", N_("Payment due"), "date"),
    ("claimed_pence", N_("Claimed"), "money"),
    ("approved_pence", N_("Approved"), "money"),
    ("paid_pence", N_("Paid"), "money"),
    ("open_pence", N_("Outstanding"), "money"),
    ("days_overdue", N_("Days overdue"), "text"),
    ("working_days_late", N_("Working days late"), "text"),
    ("question", N_("Question"), "text"),
    ("queried_on", N_("Queried on"), "date"),
    ("budget_pence", N_("Budget"), "money"),
    ("committed_pence", N_("Committed"), "money"),
    ("on_time_percent", N_("Paid on time (%)"), "text"),
    ("claims_judged", N_("Claims judged"), "text"),
    ("owed_pence", N_("Owed more than 60 days"), "money"),
)


class PermanentEmailFailure(Exception):
    """The mail server refused for good (5xx): retrying will not help."""


def _shown(value: Any, how: str) -> str:
    if how == "money" and isinstance(value, int):
        return i18n.money(value)
    if how == "date" and isinstance(value, str):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return value
        return i18n.short_date(day)
    return str(value)


def _facts(detail: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [
        (gettext(label), _shown(detail[key], how))
        for key, label, how in _LINES
        if detail.get(key) not in (None, "")
    ]


def render_alert_email(alert: Alert) -> dict[str, str]:
    """Subject, plain text and HTML of one alert's email."""
    facts = _facts(alert.detail)
    flags = []
    if alert.detail.get("while_queried"):
        flags.append(
            gettext("The claim is queried; approval is still late (a query pauses nothing).")
        )
    if alert.detail.get("awaiting_approval"):
        flags.append(
            gettext("The claim is still waiting for approval: unapproved claims count as late.")
        )
    raised_line = gettext(
        "Alert: %(kind)s (%(level)s), raised %(date)s",
        kind=alert.kind,
        level=alert.level,
        date=alert.raised_on.isoformat(),
    )
    id_line = gettext("Alert id: %(id)s", id=alert.id)
    title, title_language = shown_title(alert)
    text_lines = [title, ""]
    text_lines += [f"{label}: {value}" for label, value in facts]
    text_lines += ["", *flags] if flags else []
    text_lines += [
        "",
        raised_line,
        id_line,
        "",
        gettext("You receive this because your organisation is part of this Bridges partnership."),
    ]
    rows = "".join(
        f'<tr><th scope="row" style="text-align:left;padding-right:1em">{html.escape(label)}'
        f"</th><td>{html.escape(value)}</td></tr>"
        for label, value in facts
    )
    flag_html = "".join(f"<p>{html.escape(flag)}</p>" for flag in flags)
    body = (
        f'<!doctype html><html lang="{i18n.language()}"><body style="font-family:sans-serif">'
        f'<h1 style="font-size:1.2em"{_lang_attribute(title_language)}>{html.escape(title)}</h1>'
        f"<table>{rows}</table>{flag_html}"
        f'<p style="color:#555">{html.escape(raised_line)}. {html.escape(id_line)}</p>'
        "</body></html>"
    )
    return {"subject": SUBJECT_PREFIX + title, "text": "\n".join(text_lines), "html": body}


def _lang_attribute(language: str) -> str:
    """` lang="en"` on an English title in another language's email; nothing when it matches."""
    return "" if language == i18n.language() else f' lang="{language}"'


def render_digest_email(day: date, alerts: Sequence[Alert]) -> dict[str, str]:
    """One email listing every open item of a recipient on `day`."""
    count = len(alerts)
    subject = SUBJECT_PREFIX + ngettext(
        "Daily digest for %(date)s: %(num)d open item",
        "Daily digest for %(date)s: %(num)d open items",
        count,
        date=i18n.short_date(day),
    )
    text_lines = [
        ngettext(
            "%(num)d open item on %(date)s:", "%(num)d open items on %(date)s:", count, date=day
        ),
        "",
    ]
    items_html = []
    for alert in alerts:
        ack = " " + gettext("(acknowledged)") if alert.status == "acknowledged" else ""
        raised = gettext("raised %(date)s", date=alert.raised_on.isoformat())
        title, title_language = shown_title(alert)
        text_lines.append(f"- {title}{ack} [{raised}]")
        items_html.append(
            f"<li><span{_lang_attribute(title_language)}>{html.escape(title)}</span>"
            f"{html.escape(ack)} "
            f"<small>{html.escape(raised)}</small></li>"
        )
    text_lines += [
        "",
        gettext("You receive one digest a day because your organisation chose digest mode."),
    ]
    body = (
        f'<!doctype html><html lang="{i18n.language()}"><body style="font-family:sans-serif">'
        f'<h1 style="font-size:1.2em">{html.escape(subject[len(SUBJECT_PREFIX) :])}</h1>'
        f"<ul>{''.join(items_html)}</ul></body></html>"
    )
    return {"subject": subject, "text": "\n".join(text_lines), "html": body}


def message_id_header(message_id: str, sender: str) -> str:
    """``<msg_…@domain>``: the stable id in RFC 5322 form, the domain from the sender."""
    address = parseaddr(sender)[1]
    domain = address.rpartition("@")[2] or "bridges.localhost"
    return f"<{message_id}@{domain}>"


def build_message(
    settings: NotifierSettings, recipient: str, message_id: str, payload: Mapping[str, Any]
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = recipient
    message["Subject"] = str(payload["subject"])
    message["Message-ID"] = message_id_header(message_id, settings.smtp_from)
    message["Date"] = formatdate(product_clock.now().timestamp(), usegmt=True)
    message["Auto-Submitted"] = "auto-generated"
    if payload.get("correlation_id"):
        message["X-Correlation-ID"] = str(payload["correlation_id"])
    message.set_content(str(payload["text"]))
    if payload.get("html"):
        message.add_alternative(str(payload["html"]), subtype="html")
    for attachment in payload.get("attachments", ()) or ():
        _attach(message, attachment)
    return message


def _attach(message: EmailMessage, attachment: Mapping[str, Any]) -> None:
    """Attachments in a payload: {"filename", "content_type", "content_base64"}."""
    maintype, _, subtype = str(attachment["content_type"]).partition("/")
    message.add_attachment(
        base64.b64decode(attachment["content_base64"]),
        maintype=maintype,
        subtype=subtype or "octet-stream",
        filename=str(attachment["filename"]),
    )


def send_email(
    settings: NotifierSettings, recipient: str, message_id: str, payload: Mapping[str, Any]
) -> None:
    """Send one email; raise PermanentEmailFailure for a 5xx refusal, other errors to retry."""
    message = build_message(settings, recipient, message_id, payload)
    try:
        with smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds
        ) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password or "")
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        if codes and all(500 <= code < 600 for code in codes):
            raise PermanentEmailFailure(
                f"recipient refused: {_describe(error.recipients)}"
            ) from error
        raise
    except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
        if 500 <= error.smtp_code < 600:
            raise PermanentEmailFailure(
                f"SMTP {error.smtp_code}: {_decode(error.smtp_error)}"
            ) from error
        raise


def _decode(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _describe(recipients: Mapping[str, tuple[int, bytes]]) -> str:
    parts: Iterable[str] = (
        f"{address} ({code} {_decode(text)})" for address, (code, text) in recipients.items()
    )
    return ", ".join(parts)
