"""The notifier's pages in Welsh: the statement page and its downloads (the ledger asks the
notifier in the page's language), and the indicator charts, every word of them in Welsh."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.support.notifier_pages import Scene, notifier_scene

from .conftest import Browser


@pytest.fixture(scope="module")
def scene(_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    with notifier_scene(_sqlite_template, tmp_path_factory.mktemp("cymraeg-notifier")) as built:
        yield built


def test_a_welsh_statement_page_downloads_welsh_files(scene: Scene) -> None:
    a = scene.world.a
    finance = Browser(scene.ledger_app.test_client())
    finance.client.get("/sign-in?lang=cy")
    assert finance.sign_in(scene.email("finance")).status_code == 302
    page = finance.text(f"/statements?agreement={a.agreement_id}")
    assert '<html lang="cy"' in page and "ddyledus fel yr oedd ar" in page
    links = dict(
        re.findall(r'href="([^"]+)" data-download="(csv|pdf)"', page)[i][::-1] for i in range(2)
    )
    csv = finance.client.get(unescape(links["csv"]))
    assert csv.status_code == 200
    assert csv.get_data(as_text=True).startswith("math_rhes,label,id_hawliad,")
    pdf = finance.client.get(unescape(links["pdf"]))
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Datganiad symiau heb eu talu" in text and "Tudalen 1 o" in text

    english = Browser(scene.ledger_app.test_client())
    assert english.sign_in(scene.email("finance")).status_code == 302
    page = english.text(f"/statements?agreement={a.agreement_id}")
    links = dict(
        re.findall(r'href="([^"]+)" data-download="(csv|pdf)"', page)[i][::-1] for i in range(2)
    )
    assert english.client.get(unescape(links["csv"])).get_data(as_text=True).startswith("row_type,")


def test_indicator_charts_speak_welsh(scene: Scene) -> None:
    viewer = Browser(scene.ledger_app.test_client())
    viewer.client.get("/sign-in?lang=cy")
    assert viewer.sign_in(scene.email("partner_viewer")).status_code == 302
    page = viewer.text("/indicators")
    charts = re.findall(r"<svg.*?</svg>", page, flags=re.S)
    assert len(charts) == 3
    assert not any('lang="en"' in svg for svg in charts)  # nothing English left to mark
    days, aging, on_time = charts
    for welsh in (
        "Hawliadau a dalwyd yn llawn",
        "Talwyd o fewn 30 diwrnod",
        "Diwrnodau o’u derbyn hyd at eu talu’n llawn",
        "Y terfyn cyfreithiol yw 30 diwrnod",
    ):
        assert welsh in unescape(days), welsh
    assert "Y swm heb ei dalu ar ddiwedd pob mis" in unescape(aging)
    assert "Cod Ymarfer Talu Gwell y GIG" in unescape(on_time)
    assert "Targed 95%" in unescape(on_time)
    for english in ("Paid within", "Claims", "Open amount", "Paid on time", "target"):
        assert not any(english in unescape(svg) for svg in charts), english


def test_the_alerts_page_shows_each_alerts_title_in_welsh(scene: Scene) -> None:
    """The feed's titles come from the notifier in the page's language, made again from each
    alert's facts: no English title on a Welsh alerts page."""
    viewer = Browser(scene.ledger_app.test_client())
    viewer.client.get("/sign-in?lang=cy")
    assert viewer.sign_in(scene.email("partner_viewer")).status_code == 302
    page = unescape(viewer.text("/alerts?status=all"))
    titles = re.findall(r"<strong data-alert-title>([^<]+)</strong>", page)
    assert titles
    assert any(title.startswith("Taliad yn hwyr: ") for title in titles), titles
    assert any(title.startswith("Ymholiad heb ei ateb: ") for title in titles), titles
    for english in ("Payment overdue:", "Query unanswered:", "Approval overdue:", " late"):
        assert not any(english in title for title in titles), (english, titles)
