"""Helpers shared by the pages: running a command and turning its refusal into errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, request, url_for

from shared.i18n import N_, gettext

from ...access import Principal
from ...application import Ledger
from ...domain.errors import DomainError, ValidationFailed
from ...errors import StaleVersion
from ...queue import queue_key
from ...store.event_store import ConcurrencyConflict, UnitOfWork
from ..presenters import FormErrors
from ..sessions import current_person

STALE_MESSAGE = N_(
    "This claim changed while you were looking at it. Check it again below, then try again."
)


class Stale(Exception):
    """The claim moved on since the form was shown."""


def run(ledger: Ledger, errors: FormErrors, command: Callable[[UnitOfWork], Any]) -> Any | None:
    """Run `command` in one unit of work; on a refusal record why in `errors` and return
    None (nothing was written). A stale version raises Stale."""
    try:
        with ledger.store.unit_of_work() as uow:
            return command(uow)
    except ValidationFailed as error:
        errors.add_all(error.errors)
    except DomainError as error:
        errors.add("_schema", error.message)
    except (StaleVersion, ConcurrencyConflict) as error:
        raise Stale() from error
    return None


def version_of(text: str | None) -> int:
    """The version a form carried (an unreadable one can never match: it is stale)."""
    try:
        return int(text or "")
    except ValueError:
        return -1


def all_claims(ledger: Ledger, principal: Principal, **filters: str) -> list[dict[str, Any]]:
    """Every claim the principal may see (all pages), newest first."""
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        args: dict[str, Any] = {"limit": ledger.settings.max_page_size, **filters}
        if cursor:
            args["cursor"] = cursor
        page = ledger.list_claims(principal, args)
        found.extend(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return found


def approval_queue(ledger: Ledger, principal: Principal) -> list[dict[str, Any]]:
    """Undecided claims the principal's organisation pays, most urgent first."""
    today = ledger.today()
    queue = []
    for status in ("submitted", "queried"):
        for claim in all_claims(ledger, principal, status=status):
            if claim["payer_id"] != principal.organisation_id:
                continue
            claim["approval_overdue"] = today > claim["approval_due"]
            queue.append(claim)
    queue.sort(key=queue_key)
    return queue


def claim_command_page(
    ledger: Ledger,
    claim_id: str,
    form: Any,
    action: str,
    template: str,
    data: Callable[[], dict[str, Any]],
    done: str,
) -> Any:
    """A page with one claim command: GET shows the form for the claim's current version
    (carried in a hidden field, the forms' If-Match); POST runs the command. A stale version
    sends the person back to the claim, told that it changed."""
    principal = current_person().principal
    found = ledger.get_claim(principal, claim_id)
    errors = FormErrors()
    if request.method == "GET":
        form.version.data = str(found["version"])
        return render_template(template, form=form, claim=found, errors=errors)
    try:
        result = run(
            ledger,
            errors,
            lambda uow: ledger.claim_command(
                uow, principal, claim_id, version_of(form.version.data), action, data()
            ),
        )
    except Stale:
        flash(gettext(STALE_MESSAGE), "error")
        return redirect(url_for("web.claim", claim_id=claim_id))
    if result is None:
        return render_template(template, form=form, claim=found, errors=errors), 400
    flash(done, "success")
    return redirect(url_for("web.claim", claim_id=claim_id))
