"""The alerts, statements and indicators pages: the ledger's web front end (Flask's test
client) fetching from a REAL notifier API served on 127.0.0.1, whose read model was built
from the ledger's own events (see tests/support/notifier_pages.py). Tenant isolation,
acknowledging with CSRF, statements that agree with the balances page, CSV and PDF
downloads, indicators with three charts and their text alternatives, and every page still
answering when the notifier is down."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from datetime import date
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from services.ledger.web.notifier_client import NotifierClient, NotifierUnavailable
from services.notifier.data import BASE_RATES_ENV
from services.notifier.store import tables
from shared.tokens import token_key
from tests.support.notifier_pages import TODAY, Scene, notifier_scene, pence

from .conftest import Browser

BANNER = "are not available right now"


@pytest.fixture(scope="module")
def scene(_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    with notifier_scene(_sqlite_template, tmp_path_factory.mktemp("notifier-pages")) as built:
        yield built


def signed_in(scene: Scene, role: str, tenant: str = "a") -> Browser:
    browser = Browser(scene.ledger_app.test_client())
    response = browser.sign_in(scene.email(role, tenant))
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return browser


def attribute_values(page: str, name: str) -> list[str]:
    return re.findall(rf'{name}="([^"]*)"', page)


def cell(page: str, attribute: str) -> str:
    """The text of the element carrying `attribute` (e.g. data-total="open")."""
    match = re.search(rf"{re.escape(attribute)}[^>]*>(.*?)</(?:dd|td)>", page, re.S)
    assert match, attribute
    return re.sub(r"<[^>]+>", "", unescape(match.group(1))).strip()


def alert_status(scene: Scene, alert_id: str) -> Any:
    with scene.notifier_engine.connect() as connection:
        return connection.execute(
            select(tables.alerts.c.status, tables.alerts.c.acknowledged_by).where(
                tables.alerts.c.id == alert_id
            )
        ).one()


# ---- alerts ---------------------------------------------------------------------------------


def test_the_alerts_page_lists_the_tenants_alerts_only(scene: Scene) -> None:
    a, b = scene.world.a, scene.world.b
    viewer = signed_in(scene, "partner_viewer")
    page = viewer.text("/alerts?status=all")
    shown = attribute_values(page, "data-alert")
    expected = [row.id for row in scene.alert_rows(a.partnership_id)]
    assert shown and sorted(shown) == sorted(expected)
    tenant_b = {row.id for row in scene.alert_rows(b.partnership_id)}
    assert tenant_b, "tenant B should have an alert of its own"
    assert tenant_b.isdisjoint(shown)
    # Newest first, each with its kind, title, date and status.
    raised = {row.id: row.raised_at for row in scene.alert_rows()}
    assert [raised[i] for i in shown] == sorted((raised[i] for i in shown), reverse=True)
    assert "Payment overdue" in page and "Query unanswered" in page
    assert "16 November 2026" in page
    assert "govuk-tag" in page

    # The other tenant's VCSE member sees theirs, not tenant A's.
    member_b = signed_in(scene, "vcse_member", "b")
    theirs = attribute_values(member_b.text("/alerts?status=all"), "data-alert")
    assert set(theirs) == tenant_b

    # The filter: "resolved" has none; the default is the open ones.
    assert "There are no resolved alerts." in viewer.text("/alerts?status=resolved")
    default = viewer.text("/alerts")
    assert set(attribute_values(default, "data-status")) == {"open"}
    assert '<option value="open" selected>' in default


def test_acknowledging_needs_the_csrf_token_and_is_passed_to_the_notifier(scene: Scene) -> None:
    a = scene.world.a
    viewer = signed_in(scene, "partner_viewer")
    alert_id = next(
        row.id for row in scene.alert_rows(a.partnership_id) if row.kind == "payment_overdue"
    )
    action = f"/alerts/{alert_id}/acknowledge"
    assert action in viewer.text("/alerts")

    forged = viewer.client.post(action, data={"status": "open"})
    assert forged.status_code == 400
    assert "The form could not be checked" in forged.get_data(as_text=True)
    assert alert_status(scene, alert_id).status == "open"

    # Another tenant cannot acknowledge it, even with a good token: 404, not 403.
    finance_b = signed_in(scene, "finance", "b")
    assert finance_b.post(action, {"status": "open"}, form_page="/alerts").status_code == 404
    assert alert_status(scene, alert_id).status == "open"

    done = viewer.post(action, {"status": "open"}, form_page="/alerts")
    assert done.status_code == 302
    assert done.headers["Location"].endswith("/alerts?status=open")
    after = viewer.text("/alerts?status=open")
    assert "Alert acknowledged: Payment overdue" in after
    assert alert_id not in attribute_values(after, "data-alert")
    row = alert_status(scene, alert_id)
    assert (row.status, row.acknowledged_by) == (
        "acknowledged",
        scene.person_id("partner_viewer"),
    )
    acknowledged = viewer.text("/alerts?status=acknowledged")
    assert alert_id in attribute_values(acknowledged, "data-alert")
    assert action not in acknowledged  # no button once acknowledged
    assert "Acknowledged on 16 November 2026" in acknowledged


# ---- statements -----------------------------------------------------------------------------


def balances_figures(browser: Browser, partnership_id: str, query: str = "") -> dict[str, int]:
    page = browser.text(f"/partnerships/{partnership_id}/balances{query}")
    return {
        name: pence(cell(page, f'data-figure="{name}"'))
        for name in ("outstanding", "awaiting", "overdue")
    }


def date_query(prefix: str, day: date) -> str:
    return f"&{prefix}-day={day.day}&{prefix}-month={day.month}&{prefix}-year={day.year}"


@pytest.mark.parametrize("role", ["partner_viewer", "vcse_member", "finance"])
def test_the_statement_shows_the_totals_of_the_balances_page(scene: Scene, role: str) -> None:
    a = scene.world.a
    browser = signed_in(scene, role)
    seen = {}
    for as_at in (TODAY, date(2026, 10, 31), date(2026, 9, 2)):
        query = "?kind=outstanding" + date_query("as_at", as_at)
        page = browser.text(f"/statements{query}&agreement={a.agreement_id}")
        balances = balances_figures(browser, a.partnership_id, "?" + date_query("as_at", as_at)[1:])
        totals = {
            name: pence(cell(page, f'data-total="{name}"'))
            for name in ("open", "approved_outstanding", "awaiting", "overdue")
        }
        assert totals == {
            "open": balances["outstanding"] + balances["awaiting"],
            "approved_outstanding": balances["outstanding"],
            "awaiting": balances["awaiting"],
            "overdue": balances["overdue"],
        }, as_at
        assert f"What is owed as at {as_at.day} {as_at:%B %Y}" in page
        seen[as_at] = totals
    assert seen[TODAY]["open"] > 0 and seen[TODAY]["overdue"] > 0
    assert seen[date(2026, 9, 2)]["overdue"] == 0  # the September claims were not due yet
    # The part-paid claim is open; the paid and rejected ones are not.
    today_page = browser.text(f"/statements?agreement={a.agreement_id}")
    items = attribute_values(today_page, "data-claim")
    assert scene.claims["part"]["id"] in items
    assert scene.claims["late"]["id"] not in items
    assert scene.claims["rejected"]["id"] not in items


def test_the_activity_statement_closes_at_the_approved_balance(scene: Scene) -> None:
    a = scene.world.a
    viewer = signed_in(scene, "partner_viewer")
    start, end = date(2026, 6, 1), date(2026, 10, 31)
    page = viewer.text(
        f"/statements?agreement={a.agreement_id}&kind=activity"
        + date_query("start", start)
        + date_query("end", end)
    )
    assert "Activity from 1 June 2026 to 31 October 2026" in page
    balances = balances_figures(viewer, a.partnership_id, "?" + date_query("as_at", end)[1:])
    assert pence(cell(page, 'data-total="opening"')) == 0
    assert pence(cell(page, 'data-total="closing"')) == balances["outstanding"]
    assert "Payment received" in page and "Claim approved" in page


def test_statements_of_other_tenants_are_not_found(scene: Scene) -> None:
    a, b = scene.world.a, scene.world.b
    member_b = signed_in(scene, "vcse_member", "b")
    assert member_b.client.get(f"/statements?agreement={a.agreement_id}").status_code == 404
    download = f"/statements/download?agreement={a.agreement_id}&kind=outstanding&format=pdf"
    assert member_b.client.get(download).status_code == 404
    # Their own is there, and only theirs is offered.
    own = member_b.text("/statements")
    assert attribute_values(own, "data-statement") == ["outstanding"]
    assert a.agreement_id not in own and b.agreement_id in own


def test_the_statement_downloads_as_csv_and_pdf(scene: Scene) -> None:
    a = scene.world.a
    finance = signed_in(scene, "finance")
    page = finance.text(f"/statements?agreement={a.agreement_id}")
    links = dict(
        re.findall(r'href="([^"]+)" data-download="(csv|pdf)"', page)[i][::-1] for i in range(2)
    )
    csv = finance.client.get(unescape(links["csv"]))
    assert csv.status_code == 200
    assert csv.mimetype == "text/csv"
    assert csv.headers["Content-Type"] == "text/csv; charset=utf-8"  # one charset, not two
    disposition = csv.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=") and disposition.endswith('.csv"')
    text = csv.get_data(as_text=True)
    assert text.startswith("row_type,") and scene.claims["part"]["id"] in text
    assert csv.headers["Cache-Control"] == "no-store"
    pdf = finance.client.get(unescape(links["pdf"]))
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"].endswith('.pdf"')
    assert pdf.data.startswith(b"%PDF")
    activity = finance.client.get(
        f"/statements/download?agreement={a.agreement_id}&kind=activity"
        "&start=2026-06-01&end=2026-10-31&format=csv"
    )
    assert activity.status_code == 200 and activity.mimetype == "text/csv"
    assert "-2026-06-01-to-2026-10-31.csv" in activity.headers["Content-Disposition"]
    bad = f"/statements/download?agreement={a.agreement_id}&kind=outstanding&format=xlsx"
    assert finance.client.get(bad).status_code == 404


def test_bad_dates_are_shown_in_the_error_summary(scene: Scene) -> None:
    a = scene.world.a
    viewer = signed_in(scene, "partner_viewer")
    response = viewer.client.get(
        f"/statements?agreement={a.agreement_id}&kind=outstanding"
        "&as_at-day=31&as_at-month=2&as_at-year=2026"
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "<title>Error: Statements" in page
    assert "govuk-error-summary" in page
    assert 'href="#as_at-day">The statement date must be a real date' in page
    assert 'value="31"' in page  # what was typed is kept
    assert "data-statement" not in page
    backwards = viewer.client.get(
        f"/statements?agreement={a.agreement_id}&kind=activity"
        + date_query("start", date(2026, 10, 1))
        + date_query("end", date(2026, 9, 1))
    )
    assert backwards.status_code == 400
    assert "The end date must be the same as or after the start date" in backwards.get_data(
        as_text=True
    )
    future = viewer.client.get(
        "/statements?kind=outstanding" + date_query("as_at", date(2027, 1, 1))
    )
    assert "The statement date must be today or in the past" in future.get_data(as_text=True)
    missing = viewer.client.get("/statements?agreement=&kind=outstanding")
    assert missing.status_code == 400
    assert 'href="#agreement">Select whose statement to show' in missing.get_data(as_text=True)


# ---- indicators -----------------------------------------------------------------------------


def notifier_json(scene: Scene, role: str, path: str) -> dict[str, Any]:
    client = NotifierClient(scene.notifier.url, token_key(scene.var_dir))
    return client.indicators(scene.person_id(role), *path.split("/"), end=TODAY)


def test_the_indicators_page_shows_figures_benchmarks_and_three_charts(scene: Scene) -> None:
    a = scene.world.a
    viewer = signed_in(scene, "partner_viewer")
    page = viewer.text("/indicators")
    expected = notifier_json(scene, "partner_viewer", f"partnerships/{a.partnership_id}")
    figures = expected["figures"]
    assert set(attribute_values(page, "data-figure")) == set(figures)
    median = figures["median_days_to_pay"]["value"]
    assert re.search(rf'data-figure="median_days_to_pay".*?data-value>{median} days<', page, re.S)
    # 2 of the 5 claims due in the year were paid within terms (early and on time; quick
    # was paid within days; late and part were not): each benchmark says met or not met.
    on_time = figures["paid_within_terms_by_number_percent"]
    assert on_time["benchmarks"][0]["met"] is False
    assert re.search(
        r'data-figure="paid_within_terms_by_number_percent".*?data-met="no"', page, re.S
    )
    assert "Not met" in page and "Met" in page

    charts = re.findall(r"<svg[^>]*>.*?</svg>", page, re.S)
    assert len(charts) == 3
    for chart in charts:
        assert 'role="img"' in chart
        labelled = re.search(r'aria-labelledby="([^"]+) ([^"]+)"', chart)
        assert labelled, chart[:200]
        assert f'<title id="{labelled.group(1)}">' in chart
        assert f'<desc id="{labelled.group(2)}">' in chart
        assert "<script" not in chart and "style=" not in chart
    for name in ("days-to-pay", "aging-over-time", "on-time"):
        assert f'data-chart="{name}"' in page
        assert f'data-chart-table="{name}"' in page  # the figures again, as a table
    assert "95% target" in charts[2]
    desc = re.search(r"<desc[^>]*>(.*?)</desc>", charts[0], re.S)
    assert desc and "31 to 60 days: 1 claim" in unescape(desc.group(1))
    assert "data-practices" in page
    # Days to pay beside what is still owed past due, so a payer cannot look fast by not paying.
    owed = figures["unpaid_past_due_claims"]["value"]
    assert re.search(rf'data-figure="unpaid_past_due_claims".*?data-value>{owed}<', page, re.S)
    assert "Claims still unpaid past payment due" in page
    assert "Still unpaid past due (oldest)" in page


def test_indicators_of_the_own_organisation_and_a_period(scene: Scene) -> None:
    member = signed_in(scene, "vcse_member")
    page = member.text(
        "/indicators?scope=organisation"
        + date_query("start", date(2026, 6, 1))
        + date_query("end", date(2026, 8, 31))
    )
    assert "Charity A, 1 June 2026 to 31 August 2026" in page
    assert len(re.findall(r"<svg", page)) == 3
    backwards = member.client.get(
        "/indicators?"
        + date_query("start", date(2026, 9, 1))[1:]
        + date_query("end", date(2026, 6, 1))
    )
    assert backwards.status_code == 400
    assert "The end date must be the same as or after the start date" in backwards.get_data(
        as_text=True
    )
    other = scene.world.b.partnership_id
    assert member.client.get(f"/indicators?partnership={other}").status_code == 404


def test_the_navigation_offers_the_new_pages(scene: Scene) -> None:
    for role in ("partner_viewer", "vcse_member", "approver", "finance"):
        home = signed_in(scene, role).text("/")
        for path in ("/alerts", "/statements", "/indicators"):
            assert f'href="{path}"' in home, (role, path)


# ---- the notifier stopped -------------------------------------------------------------------


def test_every_page_still_answers_when_the_notifier_is_stopped(scene: Scene) -> None:
    a = scene.world.a
    notifier = scene.serve_notifier()
    app = scene.ledger_app_with_notifier_at(notifier.url)
    browser = Browser(app.test_client())
    assert browser.sign_in(scene.email("partner_viewer")).status_code == 302
    assert 'data-alert="' in browser.text("/alerts?status=all")  # it answers while it runs
    alert_id = scene.alert_rows(a.partnership_id)[0].id
    notifier.stop()

    for path, what in (
        ("/alerts", "Alerts"),
        ("/alerts?status=all", "Alerts"),
        ("/statements", "Statements"),
        (f"/statements?agreement={a.agreement_id}&kind=activity", "Statements"),
        ("/indicators", "Indicators"),
        ("/indicators?scope=organisation", "Indicators"),
    ):
        response = browser.client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        page = response.get_data(as_text=True)
        assert f"{what} {BANNER}" in page, path
        assert "govuk-notification-banner" in page
        assert 'data-notifier="unavailable"' in page
    # The statement form is still there to use once the notifier is back.
    assert 'id="agreement"' in browser.text("/statements")

    acknowledged = browser.post(f"/alerts/{alert_id}/acknowledge", {"status": "open"}, "/alerts")
    assert acknowledged.status_code == 302
    follow = browser.text("/alerts")
    assert "The alert could not be acknowledged" in follow and BANNER in follow
    download = browser.client.get(
        f"/statements/download?agreement={a.agreement_id}&kind=outstanding&as_at=2026-11-16&format=pdf"
    )
    assert download.status_code == 302
    assert "The statement could not be downloaded" in browser.text(download.headers["Location"])


def test_the_client_reports_a_stopped_notifier_quickly() -> None:
    client = NotifierClient("http://127.0.0.1:9", b"key", timeout=2)
    person = "6f1c1b2e-8d43-4c4e-9a51-0c7d5c7e7a10"
    with pytest.raises(NotifierUnavailable):
        client.alerts(person)


# ---- base rate data past its confirmed date ---------------------------------------------------

BASE_RATES_BANNER = 'data-base-rates="stale"'


def confirmed_rates(tmp_path: Path, confirmed_to: str) -> Path:
    """The packaged base rate changes, in a file confirmed to another date."""
    packaged = Path(__file__).resolve().parents[3] / "services/notifier/data/base_rates.json"
    data = json.loads(packaged.read_text())
    path = tmp_path / f"rates-{confirmed_to}.json"
    path.write_text(json.dumps({**data, "confirmed_to": confirmed_to}))
    return path


def test_pages_warn_when_interest_uses_a_base_rate_past_the_confirmed_data(scene: Scene) -> None:
    # The packaged data is confirmed to 19 March 2026; the part-paid claim became overdue in
    # October 2026, so its interest takes the base rate on 30 June 2026.
    a = scene.world.a
    finance = signed_in(scene, "finance")
    page = finance.text(f"/statements?agreement={a.agreement_id}")
    assert page.count(BASE_RATES_BANNER) == 1
    assert 'data-base-rates-confirmed-to="2026-03-19"' in page
    assert "The late payment interest may be wrong." in page
    assert "base rate on 30 June 2026" in unescape(page)
    assert "only confirmed to 19 March 2026" in unescape(page)

    link = re.search(r'href="([^"]+)" data-download="pdf"', page)
    assert link
    pdf = finance.client.get(unescape(link.group(1)))
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Warning: Late payment interest here uses the Bank of England base rate on 30 June" in (
        re.sub(r"\s+", " ", text)
    )

    indicators = signed_in(scene, "partner_viewer").text("/indicators")
    assert indicators.count(BASE_RATES_BANNER) == 1
    expected = notifier_json(scene, "partner_viewer", f"partnerships/{a.partnership_id}")
    assert expected["base_rate_data"]["stale"] is True
    assert expected["base_rate_data"]["reference_dates_unconfirmed"] == ["2026-06-30"]


def test_pages_do_not_warn_when_the_base_rates_used_are_confirmed(
    scene: Scene, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = scene.world.a
    finance = signed_in(scene, "finance")
    # No interest at all on 2 September 2026 (nothing overdue yet): nothing to warn of.
    early = finance.text(
        f"/statements?agreement={a.agreement_id}&kind=outstanding"
        + date_query("as_at", date(2026, 9, 2))
    )
    assert "data-statement" in early and BASE_RATES_BANNER not in early

    # The same pages as the test above, with base rate data confirmed past 30 June 2026.
    monkeypatch.setenv(BASE_RATES_ENV, str(confirmed_rates(tmp_path, "2026-11-05")))
    page = finance.text(f"/statements?agreement={a.agreement_id}")
    assert "data-statement" in page and pence(cell(page, 'data-total="interest"')) > 0
    assert BASE_RATES_BANNER not in page
    assert "The late payment interest may be wrong." not in page
    link = re.search(r'href="([^"]+)" data-download="pdf"', page)
    assert link
    pdf = finance.client.get(unescape(link.group(1)))
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Warning" not in text
    indicators = signed_in(scene, "partner_viewer").text("/indicators")
    assert "data-figure" in indicators and BASE_RATES_BANNER not in indicators
    expected = notifier_json(scene, "partner_viewer", f"partnerships/{a.partnership_id}")
    assert expected["base_rate_data"]["stale"] is False
    assert expected["base_rate_data"]["confirmed_to"] == "2026-11-05"


def test_statement_views_and_downloads_are_in_the_access_audit(scene: Scene) -> None:
    from collections import Counter

    from services.ledger.audit import AuditFilter, list_access

    a = scene.world.a
    finance = signed_in(scene, "finance")
    ledger = scene.ledger_app.extensions["bridges.ledger"]
    who = a.person_ids["finance"]

    def audited() -> list[tuple[str, str, str, str]]:
        with ledger.store.engine.connect() as connection:
            rows = list_access(connection, AuditFilter(actor=who, resource="statement"))
        return sorted(
            (r["organisation_id"], r["action"], r["resource"], r["resource_id"]) for r in rows
        )

    before = audited()
    finance.text(f"/statements?agreement={a.agreement_id}")
    download = f"/statements/download?agreement={a.agreement_id}&kind=outstanding&format=csv"
    assert finance.client.get(download).status_code == 200
    new = Counter(audited()) - Counter(before)
    assert sorted(new.elements()) == sorted(
        [
            (org, action, "statement", resource_id)
            for org in (a.payee_id, a.payer_id)
            for action, resource_id in (
                ("view", f"{a.agreement_id}:outstanding"),
                ("download", f"{a.agreement_id}:outstanding.csv"),
            )
        ]
    )
    # A refused look (another tenant's statement) is not an access.
    member_b = signed_in(scene, "vcse_member", "b")
    assert member_b.client.get(f"/statements?agreement={a.agreement_id}").status_code == 404
    with ledger.store.engine.connect() as connection:
        rows = list_access(connection, AuditFilter(actor=scene.world.b.person_ids["vcse_member"]))
    assert all(row["organisation_id"] not in (a.payee_id, a.payer_id) for row in rows)
