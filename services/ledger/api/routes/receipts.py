"""Receipts: upload a file (multipart), then name it in a claim's expense line; fetch a
claim's receipt (whoever may see the claim)."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from shared.problems import validation_problem

from ...application import Ledger
from ...receipts.http import allow_upload, receipt_response
from ..commands import execute
from ..schemas import ReceiptOut, ReceiptUploadIn
from .common import IDEMPOTENCY_DOC, principal_of

RECEIPT_RESPONSE = {
    "description": "The receipt as stored (metadata stripped): JPEG, PNG or PDF",
    "content": {
        "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
        "image/png": {"schema": {"type": "string", "format": "binary"}},
        "application/pdf": {"schema": {"type": "string", "format": "binary"}},
    },
}


def build_receipts(ledger: Ledger) -> Blueprint:
    blp = Blueprint("receipts", __name__, description="Receipts on expense lines")

    @blp.before_request
    def _room_for_a_file() -> None:
        if request.method == "POST":
            allow_upload(ledger.settings)

    @blp.route("/receipts")
    class Receipts(MethodView):
        @blp.arguments(ReceiptUploadIn, location="files")
        @blp.response(201, ReceiptOut)
        @blp.doc(parameters=[IDEMPOTENCY_DOC])
        def post(self, data: dict[str, Any]) -> Response:
            """Upload a receipt (multipart/form-data, field `file`): JPEG, PNG, HEIC (kept as
            JPEG) or PDF, up to BRIDGES_RECEIPT_MAX_BYTES. The type is read from the bytes,
            not the name; image metadata (EXIF, GPS) is removed. Answers its `id` (the SHA-256
            of the stored file): put it in an expense line's `receipts` when submitting or
            amending a claim. The same file twice answers the same id."""
            principal = principal_of(ledger)
            upload = data["file"]
            if not hasattr(upload, "read"):
                raise validation_problem({"file": ["must be a file"]})
            content = upload.read(ledger.settings.receipt_max_bytes + 1)

            def run(uow: Any) -> tuple[dict[str, Any], dict[str, str]]:
                return ledger.upload_receipt(uow, principal, content), {}

            # Same key, same file: the saved answer; same key, another file: 422.
            sent = {"file_sha256": hashlib.sha256(content).hexdigest()}
            return execute(ledger, principal, 201, ReceiptOut(), run, body=sent)

    @blp.route("/claims/<claim_id>/receipts/<sha256>")
    class ClaimReceipt(MethodView):
        @blp.doc(responses={"200": RECEIPT_RESPONSE})
        def get(self, claim_id: str, sha256: str) -> Response:
            """A receipt of the claim (any version of it), to whoever may see the claim;
            410 once erased (the claim's history keeps its content hash)."""
            principal = principal_of(ledger)
            ref, content = ledger.claim_receipt(principal, claim_id, sha256)
            return receipt_response(ref, content)

    return blp
