"""Rendering statements: JSON, CSV and PDF from the same values."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pypdf import PdfReader

from services.notifier.interest import BaseRate, BaseRateHistory
from services.notifier.model import ClaimTimeline, Fact
from services.notifier.statements import (
    Parties,
    Party,
    Statement,
    build_activity_statement,
    build_outstanding_statement,
    render,
)
from services.notifier.statements.as_csv import pounds
from shared.i18n import use_language
from shared.text import latin
from tests.unit.notifier.rules_builders import claim_timeline

RATES = BaseRateHistory((BaseRate(date(2024, 1, 1), Decimal("4.00")),))
PARTIES = Parties(
    Party("p1", "Northside Health Equity Partnership"),
    Party("hope", "Cymdeithas Gŵyr & Hope Street"),
    Party("icb", "North ICB"),
)
PRODUCED = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)


def claim(claim_id: str, submitted_on: date, amount: int, *facts: Fact) -> ClaimTimeline:
    return claim_timeline(claim_id, submitted_on, amount, *facts, hours="3")


TIMELINES = [
    claim(
        "c1",
        date(2026, 1, 5),
        123_456,
        Fact("approved", date(2026, 1, 9), 123_456),
        Fact("paid", date(2026, 2, 10), 23_456, payment_id="pay1", text="=HYPERLINK(evil)"),
    ),
    claim("c2", date(2026, 2, 1), 999),
]


def outstanding() -> Statement:
    body = build_outstanding_statement(PARTIES, TIMELINES, date(2026, 2, 28), RATES)
    return Statement("s-1", "outstanding", "on_demand", PRODUCED, body)


def activity() -> Statement:
    body = build_activity_statement(PARTIES, TIMELINES, date(2026, 2, 1), date(2026, 2, 28))
    return Statement("s-2", "activity", "monthly", PRODUCED, body)


def test_json_has_iso_dates_and_integer_pence() -> None:
    data, content_type, filename = render(outstanding(), "json")
    document = json.loads(data)

    assert content_type == "application/json"
    assert filename == "bridges-outstanding-cymdeithas-gwyr-hope-street-north-icb-2026-02-28.json"
    assert document["as_at"] == "2026-02-28"
    assert document["payee"] == {"id": "hope", "name": "Cymdeithas Gŵyr & Hope Street"}
    first = document["items"][0]
    assert first["receipt"] == "2026-01-05"
    assert first["payment_due"] == "2026-02-04"
    assert first["open_pence"] == 100_000
    assert isinstance(first["interest_pence"], int)
    assert document["totals"]["open_pence"] == 100_999
    assert set(document["buckets"]) == {"not_due", "1-30", "31-60", "61-90", "90+"}
    assert "Late Payment of Commercial Debts (Interest) Act 1998" in document["interest_note"]
    assert "Procurement Act 2023 s.68" in document["benchmarks"]


def test_csv_has_pounds_and_pence_and_total_rows() -> None:
    data, content_type, filename = render(outstanding(), "csv")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))

    assert content_type == "text/csv; charset=utf-8"
    assert filename.endswith(".csv")
    items = [row for row in rows if row["row_type"] == "item"]
    assert [(r["claim_id"], r["open_pounds"], r["open_pence"]) for r in items] == [
        ("c1", "1000.00", "100000"),
        ("c2", "9.99", "999"),
    ]
    total = next(row for row in rows if row["label"] == "Total open")
    assert (total["open_pounds"], total["open_pence"]) == ("1009.99", "100999")
    assert sum(int(r["open_pence"]) for r in rows if r["row_type"] == "bucket_total") == 100_999


def test_activity_csv_neutralises_spreadsheet_formulas() -> None:
    data, _, _ = render(activity(), "csv")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))

    payment = next(row for row in rows if row["type"] == "payment" and row["row_type"] == "line")
    assert payment["reference"] == "'=HYPERLINK(evil)"
    closing = next(row for row in rows if row["row_type"] == "closing")
    assert closing["amount_pence"] == "100000"


def test_pdf_text_is_extractable() -> None:
    data, content_type, filename = render(outstanding(), "pdf")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)

    assert content_type == "application/pdf"
    assert filename.endswith(".pdf")
    assert "Outstanding statement" in text
    assert "Cymdeithas Gŵyr & Hope Street" in text  # the embedded font has ŵ
    assert "£1,009.99" in text
    assert "Page 1 of 1" in text
    assert "Late Payment of Commercial Debts (Interest) Act 1998" in text
    assert "1 March 2026" not in text  # produced at 08:30 UTC on 2 March is 08:30 GMT
    assert "2 March 2026, 08:30 GMT" in text


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="json, csv, pdf"):
        render(outstanding(), "xlsx")


@pytest.mark.parametrize(
    ("pence", "shown"), [(0, "0.00"), (5, "0.05"), (123_456, "1234.56"), (-1_005, "-10.05")]
)
def test_pounds_have_two_decimals(pence: int, shown: str) -> None:
    assert pounds(pence) == shown


def test_latin_keeps_windows_1252_and_drops_other_accents() -> None:
    assert latin("£1 – café") == "£1 – café"
    assert latin("Gŵyr ŷ") == "Gwyr y"
    assert latin("数") == "?"


def test_the_same_statement_renders_to_the_same_pdf_bytes() -> None:
    first, _, _ = render(outstanding(), "pdf")
    second, _, _ = render(outstanding(), "pdf")

    assert first == second
    assert PdfReader(io.BytesIO(first)).metadata["/CreationDate"] == "D:20260302083000+00'00'"


def test_statements_in_welsh_have_welsh_headings_words_and_dates() -> None:
    with use_language("cy"):
        data, _, _ = render(outstanding(), "csv")
        pdf, _, _ = render(activity(), "pdf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    assert list(rows[0])[:3] == ["math_rhes", "label", "id_hawliad"]
    assert any(row["label"] == "Cyfanswm agored" for row in rows)
    assert rows[0]["math_rhes"] == "item"  # the values programs filter on stay as they are
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Datganiad gweithgarwch" in text
    assert "Tudalen 1 o 1" in text
    assert "2 Mawrth 2026, 08:30 GMT" in text  # Welsh month names
    assert "Balans terfynol" in text
    # English is untouched by a Welsh rendering before it.
    english, _, _ = render(outstanding(), "csv")
    assert english.decode("utf-8").startswith("row_type,label,claim_id")


def _embedded_fonts(data: bytes) -> set[str]:
    """The base font names of every font embedded in the PDF (a FontFile2 in its descriptor)."""
    names = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is not None and "/FontFile2" in descriptor.get_object():
                names.add(str(font["/BaseFont"]))
    return names


def test_welsh_letters_print_as_written_in_an_embedded_font() -> None:
    data, _, _ = render(outstanding(), "pdf")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)

    assert "Gŵyr" in text  # not "Gwyr": the font has ŵ
    fonts = _embedded_fonts(data)
    assert {name.split("+")[-1] for name in fonts} == {"DejaVuSans", "DejaVuSans-Bold"}
    every = {
        str(font.get_object()["/BaseFont"])
        for page in PdfReader(io.BytesIO(data)).pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert every == fonts  # no standard (unembedded) font anywhere


def test_welsh_outstanding_statement_has_welsh_interest_and_benchmark_notes() -> None:
    with use_language("cy"):
        pdf, _, _ = render(outstanding(), "pdf")
    text = " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages
    )
    assert "Dangosir llog er gwybodaeth o dan y Late Payment of Commercial Debts" in text
    assert "ar gyfradd sylfaenol Banc Lloegr + 8% y flwyddyn" in text
    assert "Meincnodau: talu o fewn 30 diwrnod" in text
    assert "Interest is shown" not in text and "Benchmarks:" not in text
    assert "Cymdeithas Gŵyr" in text
    assert PdfReader(io.BytesIO(pdf)).trailer["/Root"]["/Lang"] == "cy"
