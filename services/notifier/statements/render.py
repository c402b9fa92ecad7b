"""`render(statement, fmt) -> (bytes, content_type, filename)` for json, csv and pdf."""

from __future__ import annotations

import json
import re
import unicodedata

from .as_csv import statement_to_csv
from .as_json import statement_to_json
from .as_pdf import statement_to_pdf
from .model import Statement

FORMATS = ("json", "csv", "pdf")
CONTENT_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "pdf": "application/pdf",
}


def filename(statement: Statement, fmt: str) -> str:
    """``bridges-outstanding-hope-street-community-trust-north-icb-2026-01-31.pdf``."""
    parties = statement.parties
    names = f"{_slug(parties.payee.name)}-{_slug(parties.payer.name)}"
    if statement.period_start is not None:
        period = f"{statement.period_start.isoformat()}-to-{statement.period_end.isoformat()}"
    else:
        period = statement.period_end.isoformat()
    return f"bridges-{statement.kind}-{names}-{period}.{fmt}"


def _slug(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:40].strip("-") or "organisation"


def render(statement: Statement, fmt: str) -> tuple[bytes, str, str]:
    """The statement in ``fmt`` (json | csv | pdf): its bytes, content type and file name."""
    if fmt == "json":
        content = json.dumps(statement_to_json(statement), ensure_ascii=False, indent=2)
        data = content.encode("utf-8")
    elif fmt == "csv":
        data = statement_to_csv(statement)
    elif fmt == "pdf":
        data = statement_to_pdf(statement)
    else:
        raise ValueError(f"unknown statement format {fmt!r}: expected one of {', '.join(FORMATS)}")
    return data, CONTENT_TYPES[fmt], filename(statement, fmt)
