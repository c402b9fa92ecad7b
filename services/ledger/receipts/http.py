"""A receipt's bytes over HTTP, for the API and the web pages alike: headers that stop a
browser from running, sniffing or framing what a person uploaded."""

from __future__ import annotations

from flask import Response, request

from shared.events.types import ReceiptRef
from shared.settings import LedgerSettings

from .content import EXTENSIONS, PDF

# Nothing may load or run from a receipt; an image may show itself, and a page of ours may
# show it as a thumbnail (<img>), never frame it.
RECEIPT_CSP = "default-src 'none'; img-src 'self'; sandbox; frame-ancestors 'none'"
# Multipart framing and the other fields of a form: room beyond the file itself.
FORM_ALLOWANCE_BYTES = 256_000


def receipt_response(ref: ReceiptRef, content: bytes) -> Response:
    """The stored file with its sniffed type; images inline (thumbnails), PDFs downloaded."""
    filename = f"receipt-{ref.sha256[:12]}.{EXTENSIONS.get(ref.media_type, 'bin')}"
    disposition = "attachment" if ref.media_type == PDF else "inline"
    response = Response(content, mimetype=ref.media_type)
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response.headers["Content-Security-Policy"] = RECEIPT_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    response.headers["ETag"] = f'"{ref.sha256}"'
    return response


def allow_upload(settings: LedgerSettings, files: int = 1) -> None:
    """Let this request's body hold ``files`` receipts (the app's cap is for JSON bodies)."""
    request.max_content_length = (
        settings.max_body_bytes + files * settings.receipt_max_bytes + FORM_ALLOWANCE_BYTES
    )
