"""People's data: the operators' subject access export, and the data keys the notifier opens
sealed personal fields with (an internal API, signed with the key both services share)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from flask import Blueprint as FlaskBlueprint
from flask import jsonify, request
from flask.typing import ResponseReturnValue
from flask.views import MethodView
from flask_smorest import Blueprint

from shared.problems import Problem
from shared.tokens import NOTIFIER_SERVICE_ID, token_keys, verify_token

from ...application import Ledger
from ...audit import record_access
from ...errors import Forbidden, NotFound
from ...people import export_person
from ...web.notifier_client import NotifierClient, NotifierError
from ..schemas import PersonExportOut
from .common import principal_of

#: Most subjects one key request may name (a consumer batch's worth).
MAX_SUBJECTS = 1000


def alerts_sent_to(ledger: Ledger, operator_id: str, person_id: str) -> dict[str, Any]:
    """What the notifier sent the person, asked as the operator; a marker if it cannot say."""
    client = NotifierClient(ledger.settings.notifier_url, ledger.token_key)
    try:
        return client.deliveries_to(operator_id, person_id)
    except NotifierError as error:
        return {"available": False, "reason": f"the notifier did not answer: {error}"}


def build_people(ledger: Ledger) -> Blueprint:
    blp = Blueprint("people", __name__, description="People's data (subject access)")

    @blp.route("/people/<person_id>/export")
    class PersonExport(MethodView):
        @blp.response(200, PersonExportOut)
        def get(self, person_id: str) -> dict[str, Any]:
            """Everything held about one person (operators): their record and roles, the
            claims they submitted or that name them with their history, what they did,
            their API tokens, erasures, and the alerts the notifier sent them."""
            principal = principal_of(ledger)
            if not principal.is_operator:
                raise Forbidden("only operators may export a person's data")
            document = export_person(
                ledger,
                person_id,
                alerts_sent=alerts_sent_to(ledger, principal.person_id, person_id),
            )
            if document is None or document["person"]["id"] != person_id:
                raise NotFound("person")
            record_access(
                ledger.store.engine,
                ledger.clock(),
                principal.person_id,
                [document["organisation"]["id"]],
                "export",
                "person",
                person_id,
            )
            return document

    return blp


def _service_key_holder(ledger: Ledger) -> bool:
    """Is the caller the notifier (a token for its service id, signed with the shared key)?"""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    keys = token_keys(Path(ledger.settings.var_dir))
    return any(verify_token(token.strip(), key) == NOTIFIER_SERVICE_ID for key in keys)


def build_internal(ledger: Ledger) -> FlaskBlueprint:
    """`POST /internal/v1/data-keys` {"subjects": [...]} → {"keys": {subject: base64 | null}}.

    null: erased (or unknown). Not in the public OpenAPI document; serve it to the notifier
    only, over TLS between the services in production.
    """
    internal = FlaskBlueprint("internal", __name__, url_prefix="/internal/v1")

    @internal.post("/data-keys")
    def data_keys() -> ResponseReturnValue:
        if not _service_key_holder(ledger):
            raise Problem(
                401,
                "unauthenticated",
                "Authentication required",
                "only the notifier may ask for data keys",
                headers={"WWW-Authenticate": 'Bearer realm="bridges-internal"'},
            )
        body = request.get_json(silent=True)
        subjects = body.get("subjects") if isinstance(body, dict) else None
        if (
            not isinstance(subjects, list)
            or not 1 <= len(subjects) <= MAX_SUBJECTS
            or not all(isinstance(s, str) and 0 < len(s) <= 80 for s in subjects)
        ):
            raise Problem(
                400,
                "bad-request",
                "Bad request",
                f"send {{'subjects': [...]}} with 1 to {MAX_SUBJECTS} subject strings",
            )
        with ledger.reading() as uow:
            found = uow.data_keys.load(subjects)
        response = jsonify(
            {
                "keys": {
                    subject: None if key is None else base64.b64encode(key).decode("ascii")
                    for subject, key in found.items()
                }
            }
        )
        response.headers["Cache-Control"] = "no-store"
        return response

    return internal
