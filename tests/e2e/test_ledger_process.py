"""The ledger as a user runs it: the `bridges` command, gunicorn, real HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from tests.support.clock import TEST_TODAY, clock_env
from tests.support.einvoice import Validator

BRIDGES = str(Path(sys.executable).with_name("bridges"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [BRIDGES, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(params=["sqlite", "postgresql"])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, object]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.db'}"
    else:
        url = request.getfixturevalue("empty_postgres_url")
    # The processes run on the test's clock (the product's seam), not the day the suite runs.
    env = {**os.environ, **clock_env(), "DATABASE_URL": url, "BRIDGES_LEDGER_WORKERS": "2"}
    run("db", "upgrade", env=env)
    seed = json.loads(run("demo", "seed", "--json", env=env))
    port = free_port()
    log = (tmp_path / "ledger.log").open("w")
    process = subprocess.Popen(
        [BRIDGES, "ledger", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/readyz", timeout=5).status_code == 200:
                break
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.2)
    else:
        os.killpg(process.pid, signal.SIGKILL)
        pytest.fail((tmp_path / "ledger.log").read_text())
    yield {"base": base, "seed": seed, "env": env}
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)
    log.close()


def test_a_claim_from_submission_to_payment_over_http(
    served: dict[str, object], einvoice_validator: Validator
) -> None:
    base = f"{served['base']}/api/v1"
    seed = served["seed"]
    assert isinstance(seed, dict)
    tokens = seed["tokens"]
    agreement = seed["agreements"][0]

    def auth(role: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[role]}", **extra}

    today = TEST_TODAY
    body = {
        "agreement_id": agreement["id"],
        "lines": [
            {
                "worked_on": (today - timedelta(days=1)).isoformat(),
                "hours": "3.5",
                "activity": "co_design",
                "worker": "Amina Khan",
                "description": "Co-design workshop, diabetes pathway",
            }
        ],
        "expenses": [{"category": "travel", "amount_pence": 1240, "description": "Bus fares"}],
    }
    created = requests.post(
        f"{base}/claims",
        json=body,
        headers=auth("vcse_member", **{"Idempotency-Key": "e2e-1"}),
        timeout=10,
    )
    assert created.status_code == 201, created.text
    claim = created.json()
    replay = requests.post(
        f"{base}/claims",
        json=body,
        headers=auth("vcse_member", **{"Idempotency-Key": "e2e-1"}),
        timeout=10,
    )
    assert replay.json() == claim

    approved = requests.post(
        f"{base}/claims/{claim['id']}/approve",
        json={},
        headers=auth("approver", **{"If-Match": created.headers["ETag"]}),
        timeout=10,
    )
    assert approved.status_code == 200, approved.text
    paid = requests.post(
        f"{base}/payments",
        json={
            "payer_id": agreement["payer_id"],
            "payee_id": agreement["payee_id"],
            "paid_on": today.isoformat(),
            "reference": "BACS 4471",
            "allocations": [{"claim_id": claim["id"], "amount_pence": claim["amount_pence"]}],
        },
        headers=auth("finance"),
        timeout=10,
    )
    assert paid.status_code == 201, paid.text
    final = requests.get(f"{base}/claims/{claim['id']}", headers=auth("vcse_member"), timeout=10)
    assert final.json()["status"] == "paid"

    too_big = requests.post(
        f"{base}/claims",
        data=b"{" + b" " * 2_000_000 + b"}",
        headers=auth("vcse_member", **{"Content-Type": "application/json"}),
        timeout=10,
    )
    assert too_big.status_code == 413
    assert requests.get(f"{served['base']}/healthz", timeout=5).status_code == 200
    balances = requests.get(
        f"{base}/partnerships/{seed['partnership_id']}/balances",
        headers=auth("partner_viewer"),
        timeout=10,
    )
    assert balances.status_code == 200
    assert len(balances.json()["organisations"]) == 3
    check_the_demos_e_invoice(served, einvoice_validator)


def test_users_create_prints_a_working_token(served: dict[str, object]) -> None:
    env = served["env"]
    assert isinstance(env, dict)
    out = run(
        "users",
        "create",
        "--org",
        "Hope Street Community Trust",
        "--role",
        "vcse_member",
        "--email",
        "new.volunteer@hopestreet.example",
        env=env,
    )
    created = json.loads(out)
    response = requests.get(
        f"{served['base']}/api/v1/claims",
        headers={"Authorization": f"Bearer {created['token']}"},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.json()["items"], "the new member sees their organisation's claims"


def check_the_demos_e_invoice(served: dict[str, object], validator: Validator) -> None:
    """`make demo` prints where its e-invoice is: the seed issued one, and it downloads (run at
    the end of the first test: a served ledger costs seconds to start)."""
    seed = served["seed"]
    assert isinstance(seed, dict)
    invoice = seed["invoice"]
    headers = {"Authorization": f"Bearer {seed['tokens']['finance']}"}
    url = f"{served['base']}/api/v1/invoices/{invoice['id']}"
    ubl = requests.get(f"{url}/ubl", headers=headers, timeout=10)
    assert ubl.status_code == 200 and ubl.headers["Content-Type"].startswith("application/xml")
    assert f"<cbc:ID>{invoice['number']}</cbc:ID>".encode() in ubl.content
    assert validator.fatal(ubl.content) == []
    pdf = requests.get(f"{url}/pdf", headers=headers, timeout=10)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
