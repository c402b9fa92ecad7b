"""The clients of the fault runs: each operation recorded in the oracle's `History`, sent with
its own id as `Idempotency-Key` (and `X-Request-ID`), and retried with the same id while the
outcome is unknown (no answer) or the first attempt is still in flight (409)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import requests

from tests.reliability.oracle import History, Operation
from tests.support.world import ApiClient, Tenant, World

# (method, path under /api/v1, bearer token, JSON body, headers) -> (status, JSON body,
# whether the ledger replayed a saved answer); raises when no answer came (outcome unknown).
Call = Callable[[str, str, str, Any, dict[str, str]], tuple[int, Any, bool]]
REPLAYED = "Idempotent-Replayed"


def in_process(api: ApiClient) -> Call:
    """Through Flask's test client (the ledger in this process)."""

    def call(method: str, path: str, token: str, body: Any, headers: dict[str, str]) -> Any:
        response = api.call(method, path, token, json=body, headers=headers)
        replayed = response.headers.get(REPLAYED) == "true"
        return response.status_code, response.get_json(silent=True), replayed

    return call


def over_http(base: str, timeout: float = 10) -> Call:
    """Through real HTTP (a server the test started), one connection pool per client."""
    session = requests.Session()

    def call(method: str, path: str, token: str, body: Any, headers: dict[str, str]) -> Any:
        response = session.request(
            method,
            f"{base}/api/v1{path}",
            json=body,
            headers={"Authorization": f"Bearer {token}", **headers},
            timeout=timeout,
        )
        try:
            answer = response.json()
        except ValueError:
            answer = response.text[:500]
        return response.status_code, answer, response.headers.get(REPLAYED) == "true"

    return call


def _in_flight(status: int, body: Any) -> bool:
    return (
        status == 409
        and isinstance(body, dict)
        and str(body.get("type", "")).endswith("idempotency-key-in-flight")
    )


def perform(
    history: History,
    call: Call,
    kind: str,
    writes: set[str],
    method: str,
    path: str,
    token: str,
    body: Any,
    *,
    partnership_id: str | None = None,
    retry_for: float = 0.0,
    headers: dict[str, str] | None = None,
) -> Operation:
    """Invoke one operation; while its outcome is unknown (or it is in flight elsewhere), retry
    it with the same id for up to `retry_for` seconds."""
    op = history.invoke(kind, writes, partnership_id)
    give_up = time.monotonic() + retry_for
    first_retry: float | None = None
    while True:
        op.attempts += 1
        asked = time.monotonic()
        try:
            sent = {**(headers or {}), **op.headers}
            status, answer, replayed = call(method, path, token, body, sent)
        except Exception as error:  # noqa: BLE001 - no answer: the outcome is unknown
            op.lost_answer(error)
            if isinstance(error, requests.ReadTimeout | TimeoutError):
                op.timed_out_sent_at.append(asked)
        else:
            if not (_in_flight(status, answer) and time.monotonic() < give_up):
                op.answered(status, answer)
                op.replayed = replayed
                if first_retry is not None:
                    op.settled_after = time.monotonic() - first_retry
                return op
            op.waited_in_flight += time.monotonic() - asked + 0.1
            op.in_flight_sent_at.append(asked)
        if time.monotonic() >= give_up:
            return op
        first_retry = first_retry or time.monotonic()
        time.sleep(0.1)


def submit(
    history: History,
    call: Call,
    world: World,
    tenant: Tenant,
    today: date,
    *,
    retry_for: float = 0.0,
    body: Any = None,
) -> Operation:
    """A VCSE member submits a claim (the world's standard one unless `body`)."""
    return perform(
        history,
        call,
        "submit",
        {"ClaimSubmitted"},
        "POST",
        "/claims",
        tenant.tokens["vcse_member"],
        body if body is not None else world.claim_body(tenant, today),
        partnership_id=tenant.partnership_id,
        retry_for=retry_for,
    )


def approve(
    history: History, call: Call, tenant: Tenant, claim: Any, *, retry_for: float = 0.0
) -> Operation:
    """An approver approves the claim in full, at the version the client last saw."""
    return perform(
        history,
        call,
        "approve",
        {"ClaimApproved"},
        "POST",
        f"/claims/{claim['id']}/approve",
        tenant.tokens["approver"],
        {},
        partnership_id=tenant.partnership_id,
        retry_for=retry_for,
        headers={"If-Match": f'"{claim["version"]}"'},
    )


def pay(
    history: History,
    call: Call,
    tenant: Tenant,
    claim: Any,
    amount_pence: int,
    paid_on: date,
    reference: str,
    *,
    retry_for: float = 0.0,
) -> Operation:
    """A finance officer records a payment of `amount_pence` against the claim."""
    return perform(
        history,
        call,
        "pay",
        {"PaymentRecorded"},
        "POST",
        "/payments",
        tenant.tokens["finance"],
        {
            "payer_id": tenant.payer_id,
            "payee_id": tenant.payee_id,
            "paid_on": paid_on.isoformat(),
            "reference": reference,
            "allocations": [{"claim_id": claim["id"], "amount_pence": amount_pence}],
        },
        partnership_id=tenant.partnership_id,
        retry_for=retry_for,
    )


def submit_claims_until(
    world: World,
    call: Call,
    history: History,
    stop: threading.Event,
    *,
    today: date,
    pace: float,
    retry_for: float = 0.0,
    rng: random.Random | None = None,
) -> None:
    """A VCSE client: submit claims for both tenants in turn until `stop`."""
    tenants: tuple[Tenant, ...] = (world.a, world.b)
    n = 0
    while not stop.is_set():
        tenant = tenants[n % 2] if rng is None else rng.choice(tenants)
        submit(history, call, world, tenant, today, retry_for=retry_for)
        n += 1
        stop.wait(pace)
