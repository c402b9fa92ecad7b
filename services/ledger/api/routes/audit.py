"""The access audit, for operators: who viewed, downloaded or exported whose data."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from ...application import Ledger
from ...audit import ACTIONS, RESOURCES, AuditFilter, list_access
from ...errors import Forbidden
from ..schemas import Strict
from .common import principal_of


class AccessArgs(Strict):
    organisation_id = fields.String(validate=validate.Length(min=1, max=36))
    actor = fields.String(validate=validate.Length(min=1, max=100))
    action = fields.String(validate=validate.OneOf(ACTIONS))
    resource = fields.String(validate=validate.OneOf(RESOURCES))
    since = fields.AwareDateTime()
    until = fields.AwareDateTime()
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class AccessOut(ma.Schema):
    at = fields.String()
    actor = fields.String(metadata={"description": 'a person\'s id, or "cli:<login>"'})
    organisation_id = fields.String(metadata={"description": "whose data was seen"})
    action = fields.String()
    resource = fields.String()
    resource_id = fields.String()


class AccessListOut(ma.Schema):
    accesses = fields.List(fields.Nested(AccessOut))


def build_audit(ledger: Ledger) -> Blueprint:
    blp = Blueprint("audit", __name__, description="The access audit (operators)")

    @blp.route("/audit/access")
    class Access(MethodView):
        @blp.arguments(AccessArgs, location="query")
        @blp.response(200, AccessListOut)
        def get(self, args: dict[str, Any]) -> dict[str, Any]:
            """Who viewed, downloaded or exported which organisation's statements, claims and
            data, newest first (operators)."""
            principal = principal_of(ledger)
            if not principal.is_operator:
                raise Forbidden("only operators may read the access audit")
            with ledger.reading() as uow:
                rows = list_access(uow.connection, AuditFilter(**args))
            return {"accesses": rows}

    return blp
