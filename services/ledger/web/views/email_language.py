"""The language of a person's emails and statements, and (for a VCSE admin or finance) of their
organisation's: recorded in the ledger as PreferredLanguageChosen (the notifier follows it).
The language of the pages themselves is the switch's, not this."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import StringField

from shared.events.types import PREFERRED_LANGUAGES
from shared.i18n import gettext

from ...application import Ledger
from ..presenters import FormErrors
from ..sessions import current_person, requires
from .common import run

ORGANISATION_ROLES = {"vcse_admin", "finance"}


class LanguageForm(FlaskForm):  # type: ignore[misc]
    person = StringField("Your emails and statements")
    organisation = StringField("Your organisation's emails and statements")


def register(bp: Blueprint, ledger: Ledger) -> None:
    @bp.route("/language", methods=["GET", "POST"])
    @requires(lambda principal: True)
    def language_choice() -> Any:
        person = current_person()
        principal = person.principal
        for_organisation = bool(ORGANISATION_ROLES & set(principal.roles))
        form = LanguageForm()
        errors = FormErrors()
        page = {"form": form, "errors": errors, "for_organisation": for_organisation}
        if request.method == "GET":
            return render_template("language.html", **page)
        choices: list[tuple[str | None, str, Any]] = [(None, "person", form.person.data)]
        if for_organisation:
            choices.append((principal.organisation_id, "organisation", form.organisation.data))
        for _, field, value in choices:
            if value not in PREFERRED_LANGUAGES and (value or field == "person"):
                errors.add(field, "is required")
        if errors:
            return render_template("language.html", **page), 400

        def choose(uow: Any) -> bool:
            for subject, _, value in choices:
                if value:
                    person_id = None if subject else principal.person_id
                    ledger.choose_language(
                        uow, principal, principal.organisation_id, person_id, {"language": value}
                    )
            return True

        if run(ledger, errors, choose) is None:
            return render_template("language.html", **page), 400
        flash(gettext("Your language choice was saved."), "success")
        return redirect(url_for("web.language_choice"))
