"""S1 and S3 over both services, generated from their URL maps: every route × every role × the
role's own tenant and the other tenant. A route added to either service without an entry here
fails `test_every_route_is_in_the_matrix`, so none escapes it.

- Another tenant's ids (S1): 404, none of that tenant's data in the answer, nothing written
  (no event in the ledger, no change in the notifier's alerts and subscriptions).
- The role's own tenant (S3): a role the route is not for gets 403 (or 404 where it may not
  even see the resource) and nothing is written; a role it is for gets past the checks.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from services.ledger.store.views import people
from services.ledger.web.passwords import hash_password
from services.notifier.store.tables import alerts, subscriptions
from shared.events.personal import claim_subject
from shared.tokens import NOTIFIER_SERVICE_ID, issue_token
from tests.integration.web.conftest import PASSWORD, Browser
from tests.support.clock import MovableClock
from tests.support.receipts import png_with_text
from tests.support.two_services import TwoServices, invoiced_claim, two_services

TODAY_DATE = date(2026, 11, 16)  # a Monday
ROLES = ("vcse_member", "vcse_admin", "approver", "finance", "partner_viewer", "operator")
PAYEE_ROLES = {"vcse_member", "vcse_admin"}
VCSE = frozenset(PAYEE_ROLES)
PAYER = frozenset({"approver", "finance"})
MEMBERS = frozenset(ROLES) - {"operator"}
EVERYONE = frozenset(ROLES)
NOBODY: frozenset[str] = frozenset()

# Routes that take no tenant's data: documents, health, assets and signing in and out.
PUBLIC = {
    "ledger": {
        "api-docs.openapi_json",
        "api-docs.openapi_swagger_ui",
        "ops.healthz",
        "ops.readyz",
        "ops.metrics",
        "static",
        "web.static",
        "web.sign_in",
        "web.sign_out",
        # Signing in through the organisation's identity provider: before anyone is signed
        # in, it names no tenant's data (an organisation without a provider is a 404).
        "web.idp_start",
        "web.idp_callback",
    },
    "notifier": {
        "api-docs.openapi_json",
        "api-docs.openapi_swagger_ui",
        "ops.healthz",
        "ops.readyz",
        "ops.metrics",
        "static",
    },
}


@dataclass(frozen=True)
class Entry:
    """Who the route is for, in their own tenant, and what the request carries."""

    roles: frozenset[str]
    body: dict[str, Any] | None = None
    # Roles that act across tenants on this route (the operator registers for everyone).
    installation: frozenset[str] = NOBODY
    # What a role the route is for gets with the other tenant's ids: 404 for ids in the path;
    # 422 naming the field for ids in the body (they read as unknown); 200 with nothing of
    # theirs for a list filtered by the other tenant's partnership.
    other: int = 404
    # What a role the route is not for gets (the internal API: 401 to every person's token).
    refused: tuple[int, ...] = (403, 404)
    # The other tenant's ids travel in the body (a form naming their agreement).
    ids_in_body: bool = False


def _claim_body(s: TwoServices, tenant: str) -> dict[str, Any]:
    return s.world.claim_body(s.tenant(tenant), s.world_today)  # type: ignore[attr-defined]


def _month_invoice_body(s: TwoServices, tenant: str) -> dict[str, Any]:
    return {"payer_id": s.tenant(tenant).payer_id, "month": s.world_today.strftime("%Y-%m")}  # type: ignore[attr-defined]


def _payment_body(s: TwoServices, tenant: str) -> dict[str, Any]:
    t = s.tenant(tenant)
    return {
        "payer_id": t.payer_id,
        "payee_id": t.payee_id,
        "paid_on": s.world_today.isoformat(),  # type: ignore[attr-defined]
        "reference": "BACS 77",
        "allocations": [{"claim_id": s.ids[tenant].claim["id"], "amount_pence": 1}],
    }


def _agreement_body(s: TwoServices, tenant: str) -> dict[str, Any]:
    t = s.tenant(tenant)
    return {
        "payer_id": t.payer_id,
        "payee_id": t.payee_id,
        "nation": "england",
        "starts_on": "2026-01-01",
        "ends_on": "2026-12-31",
        "rates": {"hourly_pence": 1},
    }


# (service, endpoint, method) -> who may. Bodies that depend on the tenant are built by BODIES.
MATRIX: dict[tuple[str, str, str], Entry] = {
    # ---- ledger API
    ("ledger", "claims.Claims", "GET"): Entry(MEMBERS, other=200),
    ("ledger", "claims.Claims", "POST"): Entry(VCSE, other=422),
    ("ledger", "claims.ClaimResource", "GET"): Entry(MEMBERS),
    ("ledger", "claims.ClaimResource", "PATCH"): Entry(VCSE),
    ("ledger", "claims.ClaimHistory", "GET"): Entry(MEMBERS),
    ("ledger", "claims.claim_answer", "POST"): Entry(VCSE, {"answer": "Ward 7"}),
    ("ledger", "claims.claim_approve", "POST"): Entry(PAYER, {}),
    ("ledger", "claims.claim_query", "POST"): Entry(PAYER, {"question": "Which ward?"}),
    ("ledger", "claims.claim_reject", "POST"): Entry(PAYER, {"reason": "Out of scope"}),
    ("ledger", "claims.claim_withdraw", "POST"): Entry(VCSE, {}),
    ("ledger", "events.Events", "GET"): Entry(frozenset({"operator"})),
    ("ledger", "organisations.Organisations", "POST"): Entry(
        frozenset({"operator"}), {"name": "New Charity", "kind": "vcse"}
    ),
    ("ledger", "organisations.People", "POST"): Entry(
        frozenset({"vcse_admin", "operator"}),
        {"name": "New Person", "email": "new.person@example.org", "roles": ["vcse_member"]},
        installation=frozenset({"operator"}),
    ),
    ("ledger", "partnerships.Partnerships", "POST"): Entry(frozenset({"operator"})),
    # The operator, or the payer's own finance officer.
    ("ledger", "partnerships.Agreements", "POST"): Entry(
        frozenset({"operator", "finance"}), installation=frozenset({"operator"})
    ),
    ("ledger", "partnerships.Balances", "GET"): Entry(MEMBERS),
    ("ledger", "payments.Payments", "POST"): Entry(frozenset({"finance"}), other=422),
    ("ledger", "payments.Reverse", "POST"): Entry(frozenset({"finance"}), {"reason": "Bounced"}),
    # Operators only: the access audit and a person's subject access export.
    ("ledger", "audit.Access", "GET"): Entry(frozenset({"operator"})),
    ("ledger", "people.PersonExport", "GET"): Entry(
        frozenset({"operator"}), installation=frozenset({"operator"})
    ),
    # The notifier's service token only: every person's token, the operator's too, is a 401.
    ("ledger", "internal.data_keys", "POST"): Entry(NOBODY, refused=(401,)),
    # E-invoices: the claim's VCSE organisation issues; it and the payer's approvers and
    # finance officers read (viewers and the operator get 404).
    ("ledger", "invoices.ClaimInvoice", "POST"): Entry(VCSE, {}),
    ("ledger", "invoices.ClaimInvoice", "GET"): Entry(VCSE | PAYER),
    ("ledger", "invoices.MonthInvoice", "POST"): Entry(VCSE, other=422),
    ("ledger", "invoices.InvoiceResource", "GET"): Entry(VCSE | PAYER),
    ("ledger", "invoices.InvoiceUbl", "GET"): Entry(VCSE | PAYER),
    ("ledger", "invoices.InvoicePdf", "GET"): Entry(VCSE | PAYER),
    # Identifiers: the operator, or the VCSE organisation's admin (a payer's finance: 403).
    ("ledger", "organisations.OrganisationResource", "PATCH"): Entry(
        frozenset({"vcse_admin", "operator"}), {}, installation=frozenset({"operator"})
    ),
    # An organisation's language: the operator, its VCSE admin or its finance officers.
    ("ledger", "organisations.OrganisationLanguage", "PUT"): Entry(
        frozenset({"vcse_admin", "finance", "operator"}),
        {"language": "cy"},
        installation=frozenset({"operator"}),
    ),
    # A person's language (the tenant's vcse_member, or approver on the payer's side): the
    # person, their VCSE admin or finance officers, or the operator; not a viewer.
    ("ledger", "organisations.PersonLanguage", "PUT"): Entry(
        EVERYONE - {"partner_viewer"}, {"language": "cy"}, installation=frozenset({"operator"})
    ),
    # Receipts: a VCSE organisation's people upload; whoever may see the claim fetches.
    ("ledger", "receipts.Receipts", "POST"): Entry(VCSE),
    ("ledger", "receipts.ClaimReceipt", "GET"): Entry(MEMBERS),
    # ---- ledger web pages (forms are posted empty: past the checks, they re-render)
    ("ledger", "web.home", "GET"): Entry(EVERYONE),
    ("ledger", "web.alerts", "GET"): Entry(MEMBERS),
    ("ledger", "web.acknowledge_alert", "POST"): Entry(MEMBERS, {}),
    ("ledger", "web.approvals", "GET"): Entry(PAYER),
    ("ledger", "web.balances", "GET"): Entry(MEMBERS),
    ("ledger", "web.partnership_balances", "GET"): Entry(MEMBERS),
    ("ledger", "web.claims", "GET"): Entry(MEMBERS, other=200),
    ("ledger", "web.claim", "GET"): Entry(MEMBERS),
    ("ledger", "web.new_claim", "GET"): Entry(VCSE),
    ("ledger", "web.new_claim", "POST"): Entry(VCSE, {}),
    ("ledger", "web.answer_claim", "GET"): Entry(VCSE),
    ("ledger", "web.answer_claim", "POST"): Entry(VCSE, {}),
    ("ledger", "web.withdraw_claim", "GET"): Entry(VCSE),
    ("ledger", "web.withdraw_claim", "POST"): Entry(VCSE, {}),
    ("ledger", "web.approve_claim", "GET"): Entry(PAYER),
    ("ledger", "web.approve_claim", "POST"): Entry(PAYER, {}),
    ("ledger", "web.query_claim", "GET"): Entry(PAYER),
    ("ledger", "web.query_claim", "POST"): Entry(PAYER, {}),
    ("ledger", "web.reject_claim", "GET"): Entry(PAYER),
    ("ledger", "web.reject_claim", "POST"): Entry(PAYER, {}),
    ("ledger", "web.indicators", "GET"): Entry(MEMBERS),
    ("ledger", "web.payments", "GET"): Entry(frozenset({"finance"})),
    ("ledger", "web.new_payment", "GET"): Entry(frozenset({"finance"})),
    ("ledger", "web.new_payment", "POST"): Entry(frozenset({"finance"}), {}),
    ("ledger", "web.reverse_payment", "GET"): Entry(frozenset({"finance"})),
    ("ledger", "web.reverse_payment", "POST"): Entry(frozenset({"finance"}), {}),
    ("ledger", "web.statements", "GET"): Entry(MEMBERS),
    ("ledger", "web.statement_download", "GET"): Entry(MEMBERS),
    ("ledger", "web.claim_receipt", "GET"): Entry(MEMBERS),
    ("ledger", "web.invoice_download", "GET"): Entry(VCSE | PAYER),
    ("ledger", "web.issue_claim_invoice", "POST"): Entry(VCSE, {}),
    ("ledger", "web.issue_month_invoice", "POST"): Entry(VCSE, ids_in_body=True),
    # Everyone chooses their own language (and their organisation's, where they may).
    ("ledger", "web.language_choice", "GET"): Entry(EVERYONE),
    ("ledger", "web.language_choice", "POST"): Entry(EVERYONE, {}),
    # ---- notifier API
    ("notifier", "alerts.Alerts", "GET"): Entry(MEMBERS),
    ("notifier", "alerts.Acknowledge", "POST"): Entry(MEMBERS),
    # A VCSE organisation's figures for the VCSE; a payer's for the payer side and viewers.
    ("notifier", "indicators.indicators_organisation", "GET"): Entry(VCSE),
    ("notifier", "indicators.indicators_partnership", "GET"): Entry(MEMBERS),
    ("notifier", "indicators.indicators_payer", "GET"): Entry(MEMBERS - VCSE),
    ("notifier", "statements.Statements", "GET"): Entry(MEMBERS),
    # A payer's track record, to both sides of a partnership it is in (the operator is in none).
    ("notifier", "indicators.PayerTrackRecord", "GET"): Entry(MEMBERS),
    # What the notifier sent a person: operators only (for the subject access export).
    ("notifier", "people.PersonDeliveries", "GET"): Entry(
        frozenset({"operator"}), installation=frozenset({"operator"})
    ),
    # Anyone lists their own organisation's subscriptions (the operator's has none).
    ("notifier", "subscriptions.Subscriptions", "GET"): Entry(EVERYONE),
    ("notifier", "subscriptions.Subscriptions", "POST"): Entry(
        frozenset({"vcse_admin", "finance"}),
        {"channel": "email", "target": "alerts@example.org"},
    ),
}

BODIES = {
    ("ledger", "claims.Claims", "POST"): _claim_body,
    ("ledger", "claims.ClaimResource", "PATCH"): lambda s, t: {"lines": _claim_body(s, t)["lines"]},
    ("ledger", "partnerships.Partnerships", "POST"): lambda s, t: {
        "name": "New partnership",
        "organisation_ids": [s.tenant(t).payer_id, s.tenant(t).payee_id],
    },
    ("ledger", "partnerships.Agreements", "POST"): _agreement_body,
    ("ledger", "payments.Payments", "POST"): _payment_body,
    ("ledger", "invoices.MonthInvoice", "POST"): _month_invoice_body,
    ("ledger", "web.issue_month_invoice", "POST"): lambda s, t: {
        "agreement": s.tenant(t).agreement_id,
        "month": s.world_today.strftime("%Y-%m"),  # type: ignore[attr-defined]
    },
    ("ledger", "internal.data_keys", "POST"): lambda s, t: {
        "subjects": list(s.tenant(t).person_ids.values())
    },
}

# Routes whose claim is the tenant's approved, invoiced claim with a receipt.
INVOICED_CLAIM = {
    "invoices.ClaimInvoice",
    "receipts.ClaimReceipt",
    "web.claim_receipt",
    "web.issue_claim_invoice",
}


def rules(app: Flask) -> list[tuple[str, str, str]]:
    """(endpoint, method, rule) of every route, HEAD and OPTIONS aside."""
    return sorted(
        (rule.endpoint, method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    )


def services(s: TwoServices) -> dict[str, Flask]:
    return {"ledger": s.ledger, "notifier": s.notifier}


def own_organisation(s: TwoServices, tenant: str, role: str) -> str:
    t = s.tenant(tenant)
    return t.payee_id if role in PAYEE_ROLES else t.payer_id


UNKNOWN = "00000000-0000-4000-8000-000000000000"


def parameter(s: TwoServices, endpoint: str, name: str, tenant: str, role: str) -> str:
    """The value of a URL parameter naming `tenant`'s resource (tenant "unknown": no such id)."""
    if tenant == "unknown":
        return UNKNOWN
    t = s.tenant(tenant)
    ids = s.ids[tenant]
    by_name = {
        "claim_id": ids.claim["id"],
        "payment_id": ids.payment["id"],
        "alert_id": ids.alert_id,
        "partnership_id": t.partnership_id,
        "payee_id": t.payee_id,
        "payer_id": t.payer_id,
        "organisation_id": own_organisation(s, tenant, role),
        # A person of the organisation: the one whose language a colleague may choose.
        "person_id": t.person_ids["vcse_member" if role in PAYEE_ROLES else "approver"],
        "invoice_id": s.invoiced[tenant]["invoice_id"],  # type: ignore[attr-defined]
        "sha256": s.invoiced[tenant]["sha256"],  # type: ignore[attr-defined]
        "fmt": "pdf",
    }
    if endpoint in INVOICED_CLAIM:
        by_name["claim_id"] = s.invoiced[tenant]["claim_id"]  # type: ignore[attr-defined]
    if name == "entity_id":
        kind = endpoint.rsplit("_", 1)[-1]
        return {
            "organisation": own_organisation(s, tenant, role),
            "partnership": t.partnership_id,
            "payer": t.payer_id,
        }[kind]
    assert name in by_name, f"{endpoint}: URL parameter {name!r} has no value in the matrix"
    return by_name[name]


def query(s: TwoServices, service: str, endpoint: str, tenant: str) -> dict[str, str]:
    """Query parameters that name a tenant's resource on routes without path ids."""
    t = s.tenant("b" if tenant == "unknown" else tenant)
    agreement_id = UNKNOWN if tenant == "unknown" else t.agreement_id
    partnership_id = UNKNOWN if tenant == "unknown" else t.partnership_id
    if endpoint in ("web.statement_download", "web.statements"):
        return {
            "agreement": agreement_id,
            "format": "csv",
            "kind": "outstanding",
            "as_at": TODAY_DATE.isoformat(),
        }
    if endpoint in ("claims.Claims", "web.claims", "indicators.PayerTrackRecord"):
        return {"partnership_id": partnership_id}
    return {}


@dataclass
class Written:
    events: int
    alerts: list[tuple[str, str]]
    subscriptions: int


def written(s: TwoServices) -> Written:
    with s.notifier_engine.connect() as connection:
        states = [
            (r.id, r.status)
            for r in connection.execute(select(alerts.c.id, alerts.c.status).order_by(alerts.c.id))
        ]
        count = connection.execute(select(func.count()).select_from(subscriptions)).scalar_one()
    return Written(s.world.events_written(), states, int(count))


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoServices]:
    clock = MovableClock(TODAY_DATE)
    with two_services(Path(tmp_path_factory.mktemp("two-services")), clock) as s:
        s.world_today = clock.today()  # type: ignore[attr-defined]
        everyone = [
            *(i for t in (s.world.a, s.world.b) for i in t.person_ids.values()),
        ]
        ledger = s.world.ledger
        with ledger.store.engine.begin() as connection:
            connection.execute(
                update(people)
                .where(people.c.id.in_(everyone) | (people.c.email == "ops@bridges.example"))
                .values(password_hash=hash_password(PASSWORD))
            )
        s.invoiced = {t.name: invoiced_claim(s, t, clock.today()) for t in (s.world.a, s.world.b)}  # type: ignore[attr-defined]
        yield s


_signed_in: dict[tuple[int, str], Browser] = {}


def browser(s: TwoServices, role: str) -> Browser:
    """A signed-in session of tenant a's `role` (kept: argon2 makes signing in slow)."""
    key = (id(s), role)
    if key not in _signed_in:
        b = Browser(s.ledger.test_client())
        email = "ops@bridges.example" if role == "operator" else f"{role}.a@example.org"
        assert b.sign_in(email).status_code == 302
        _signed_in[key] = b
    return _signed_in[key]


def call(
    s: TwoServices, service: str, endpoint: str, method: str, rule: str, role: str, side: str
) -> Any:
    """Send `role` of tenant a at the route with the ids of tenant `side`."""
    path = rule
    for name in [p.strip("<>").split(":")[-1] for p in rule.split("/") if p.startswith("<")]:
        value = parameter(s, endpoint, name, side, role)
        path = path.replace(f"<{name}>", value)
    entry = MATRIX[(service, endpoint, method)]
    build = BODIES.get((service, endpoint, method))
    body = build(s, "b" if side == "unknown" else side) if build else entry.body
    if side == "unknown" and isinstance(body, dict):
        body = _unknown_ids(s, body)
    params = query(s, service, endpoint, side)
    if endpoint == "receipts.Receipts":  # a file, as a form upload
        body = None
        files = {"file": (io.BytesIO(png_with_text()), "receipt.png", "image/png")}
    else:
        files = None
    if endpoint.startswith("web."):
        client = browser(s, role)
        if method == "POST":
            return client.post(path, body or {}, form_page="/")
        return client.client.get(path, query_string=params)
    token = s.world.a.tokens[role]
    headers = {"Authorization": f"Bearer {token}", "If-Match": "*"}
    client = (s.ledger if service == "ledger" else s.notifier).test_client()
    if files is not None:
        return client.open(path, method=method, data=files, headers=headers)
    return client.open(path, method=method, json=body, headers=headers, query_string=params)


def _unknown_ids(s: TwoServices, value: Any) -> Any:
    """The body with every id of tenant b replaced by an id nothing has."""
    theirs = {*other_tenants_data(s)[:4], s.world.b.agreement_id, s.ids["b"].payment["id"]}
    if isinstance(value, dict):
        return {k: _unknown_ids(s, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unknown_ids(s, v) for v in value]
    return UNKNOWN if value in theirs else value


def _without_own_url(response: Any) -> str:
    """The answer's text (PDFs and images too) less echoes of the URL the caller sent (the
    language switcher links to the same page): ids the caller sent are not disclosed."""
    text = response.get_data().decode("utf-8", "replace")
    sent = response.request
    for name, value in sent.args.items():
        text = text.replace(f"{name}={value}", "")
    return text.replace(sent.path, "")


def other_tenants_data(s: TwoServices) -> list[str]:
    b = s.world.b
    invoiced = s.invoiced["b"]  # type: ignore[attr-defined]
    return [
        b.partnership_id,
        b.payee_id,
        b.payer_id,
        s.ids["b"].claim["id"],
        "Charity B",
        invoiced["claim_id"],
        invoiced["invoice_id"],
        *b.person_ids.values(),
    ]


def test_every_route_is_in_the_matrix(both: TwoServices) -> None:
    missing = [
        f"{service} {method} {rule} ({endpoint})"
        for service, app in services(both).items()
        for endpoint, method, rule in rules(app)
        if endpoint not in PUBLIC[service] and (service, endpoint, method) not in MATRIX
    ]
    assert not missing, "routes without an entry in the access matrix:\n" + "\n".join(missing)
    stale = [
        key for key in MATRIX if key[1] not in {e for e, _, _ in rules(services(both)[key[0]])}
    ]
    assert not stale, stale


@pytest.mark.parametrize("side", ["own", "other"])
@pytest.mark.parametrize("role", ROLES)
def test_every_route_for_every_role(both: TwoServices, role: str, side: str) -> None:
    tenant = "a" if side == "own" else "b"
    wrong = []
    for service, app in services(both).items():
        for endpoint, method, rule in rules(app):
            if endpoint in PUBLIC[service]:
                continue
            entry = MATRIX[(service, endpoint, method)]
            takes_ids = (
                "<" in rule or bool(query(both, service, endpoint, tenant)) or entry.ids_in_body
            )
            before = written(both)
            response = call(both, service, endpoint, method, rule, role, tenant)
            status = response.status_code
            text = _without_own_url(response)
            label = f"{service} {method} {rule} as {role} ({side}): {status}"
            allowed = role in entry.roles and (
                side == "own" or not takes_ids or role in entry.installation
            )
            if allowed:
                if status in (401, 403, 404) or status >= 500:
                    wrong.append(f"{label}, expected past the checks")
                continue
            if role not in entry.roles:
                expected: tuple[int, ...] = entry.refused
            else:
                expected = (entry.other,)
            if status not in expected:
                wrong.append(f"{label}, expected {expected}")
            if written(both) != before:
                wrong.append(f"{label}: a refused request wrote")
            if side == "other":
                if seen := [secret for secret in other_tenants_data(both) if secret in text]:
                    wrong.append(f"{label}: the other tenant's data is in the answer: {seen}")
                # Indistinguishable from an id nothing has: the answer says nothing of them.
                unknown = call(both, service, endpoint, method, rule, role, "unknown")
                if unknown.status_code != status:
                    wrong.append(f"{label}, but {unknown.status_code} for an unknown id")
    assert not wrong, "\n".join(wrong)


def test_the_internal_api_is_the_notifiers_alone(both: TwoServices) -> None:
    """The data keys answer the notifier's service token (so the matrix's 401s are not a route
    that answers nobody); a signed-in operator's browser session gets no more than a token."""
    url = "/internal/v1/data-keys"
    subject = claim_subject(both.ids["a"].claim["id"])
    token = issue_token(NOTIFIER_SERVICE_ID, both.world.ledger.token_key)
    answer = both.ledger.test_client().post(
        url, json={"subjects": [subject]}, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200 and answer.get_json()["keys"][subject]
    session = browser(both, "operator").client.post(url, json={"subjects": [subject]})
    assert session.status_code == 401 and "keys" not in session.get_json()
