"""Organisations and their people."""

from __future__ import annotations

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from ...application import Ledger
from ..commands import execute
from ..schemas import (
    IdentifiersIn,
    LanguageIn,
    LanguageOut,
    OrganisationIn,
    OrganisationOut,
    PersonIn,
    PersonOut,
)
from .common import IDEMPOTENCY_DOC, principal_of


def build_organisations(ledger: Ledger) -> Blueprint:
    blp = Blueprint("organisations", __name__, description="Organisations and their people")

    @blp.route("/organisations")
    class Organisations(MethodView):
        @blp.arguments(OrganisationIn)
        @blp.response(201, OrganisationOut)
        @blp.doc(parameters=[IDEMPOTENCY_DOC])
        def post(self, data: dict) -> Response:  # type: ignore[type-arg]
            """Register an organisation (operator)."""
            principal = principal_of(ledger)
            return execute(
                ledger,
                principal,
                201,
                OrganisationOut(),
                lambda uow: (ledger.register_organisation(uow, principal, data), {}),
            )

    @blp.route("/organisations/<organisation_id>")
    class OrganisationResource(MethodView):
        @blp.arguments(IdentifiersIn)
        @blp.response(200, OrganisationOut)
        @blp.doc(parameters=[IDEMPOTENCY_DOC])
        def patch(self, data: dict, organisation_id: str) -> Response:  # type: ignore[type-arg]
            """Record the organisation's identifiers: charity and Companies House numbers, VAT
            number, Peppol participant id (operator, or the VCSE admin). E-invoices are
            addressed to the Peppol id, else the VAT number."""
            principal = principal_of(ledger)
            return execute(
                ledger,
                principal,
                200,
                OrganisationOut(),
                lambda uow: (ledger.record_identifiers(uow, principal, organisation_id, data), {}),
            )

    @blp.route("/organisations/<organisation_id>/people")
    class People(MethodView):
        @blp.arguments(PersonIn)
        @blp.response(201, PersonOut)
        @blp.doc(parameters=[IDEMPOTENCY_DOC])
        def post(self, data: dict, organisation_id: str) -> Response:  # type: ignore[type-arg]
            """Add a person with roles to an organisation (operator, or the VCSE admin)."""
            principal = principal_of(ledger)
            return execute(
                ledger,
                principal,
                201,
                PersonOut(),
                lambda uow: (ledger.add_person(uow, principal, organisation_id, data), {}),
            )

    def choose_language(organisation_id: str, person_id: str | None, data: dict) -> Response:  # type: ignore[type-arg]
        principal = principal_of(ledger)
        return execute(
            ledger,
            principal,
            200,
            LanguageOut(),
            lambda uow: (
                ledger.choose_language(uow, principal, organisation_id, person_id, data),
                {},
            ),
        )

    @blp.route("/organisations/<organisation_id>/language")
    class OrganisationLanguage(MethodView):
        @blp.arguments(LanguageIn)
        @blp.response(200, LanguageOut)
        @blp.doc(parameters=[IDEMPOTENCY_DOC])
        def put(self, data: dict, organisation_id: str) -> Response:  # type: ignore[type-arg]
            """Choose the organisation's language for emails and statements (cy or en)."""
            return choose_language(organisation_id, None, data)

    @blp.route("/organisations/<organisation_id>/people/<person_id>/language")
    class PersonLanguage(MethodView):
        @blp.arguments(LanguageIn)
        @blp.response(200, LanguageOut)
        @blp.doc(parameters=[IDEMPOTENCY_DOC])
        def put(self, data: dict, organisation_id: str, person_id: str) -> Response:  # type: ignore[type-arg]
            """Choose a person's language for emails and statements (cy or en): the person,
            or their organisation's VCSE admin or finance officers."""
            return choose_language(organisation_id, person_id, data)

    return blp
