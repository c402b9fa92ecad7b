"""Balances from maintained state (`claim_totals` and `claims.settled_on`, kept by the
projections) agree with balances computed the reference way, by replaying every claim of the
partnership (`Claim.position_as_at`, `shared.claim_position`), on every day.

A randomised history on SQLite and PostgreSQL: submissions, queries and answers, amendments,
approvals in full and in part, rejections, withdrawals, payments in part and in full (some
backdated, some over several claims), reversals and repayments, over Christmas, the new year and
month ends; checked at checkpoints during it (a window of days around the clock's today) and at
the end on every day from before the first claim to long after the last. Migration 0010's
backfill rebuilds the same maintained state from the claims view."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, select, update

from services.ledger.api.app import create_app
from services.ledger.domain.balances import organisation_balance
from services.ledger.domain.claim import Claim
from services.ledger.store.views import claim_totals, claims
from shared.claim_position import CLAIM_STATUSES
from shared.settings import LedgerSettings
from tests.support.clock import MovableClock
from tests.support.migrations import ledger_migration
from tests.support.world import ApiClient, Tenant, World, build_world

START = date(2026, 12, 14)  # a Monday: Christmas, Boxing Day and the new year ahead
DAYS = 75  # to the end of February 2027
SEEDS = (1, 2)


@pytest.fixture
def history_world(database_url: str) -> World:
    clock = MovableClock(START)
    app: Flask = create_app(LedgerSettings(database_url=database_url), clock=clock, testing=True)
    world = build_world(ApiClient(app.test_client()), app.extensions["bridges.ledger"], START)
    world.clock = clock  # type: ignore[attr-defined]
    return world


class History:
    """Random but valid commands on tenant `a`'s claims, through the API."""

    def __init__(self, world: World, seed: int) -> None:
        self.w, self.a = world, world.a
        self.clock: MovableClock = world.clock  # type: ignore[attr-defined]
        self.random = random.Random(seed)
        self.claims: dict[str, dict[str, Any]] = {}
        self.payments: list[dict[str, Any]] = []  # not reversed yet
        self.seen: set[str] = set()  # every status a claim was in
        self.reversed = 0

    def _call(self, method: str, path: str, role: str, body: Any, **kwargs: Any) -> Any:
        response = self.w.api.call(method, path, self.a.tokens[role], json=body, **kwargs)
        self.last = response.get_json()
        return response.get_json() if response.status_code in (200, 201) else None

    def _act(self, claim: dict[str, Any], action: str, role: str, body: Any = None) -> None:
        done = self._call(
            "POST",
            f"/claims/{claim['id']}/{action}",
            role,
            body if body is not None else {},
            headers={"If-Match": f'"{claim["version"]}"'},
        )
        assert done is not None, (action, claim["status"], self.last)
        self.claims[done["id"]] = done

    def _refresh(self, claim_id: str) -> None:
        self.claims[claim_id] = self.w.api.ok(
            "GET", f"/claims/{claim_id}", self.a.tokens["vcse_member"]
        )

    def _in(self, *statuses: str) -> list[dict[str, Any]]:
        return [c for c in self.claims.values() if c["status"] in statuses]

    def _pay(self, chosen: list[dict[str, Any]]) -> None:
        allocations = []
        for claim in chosen:
            due = claim["outstanding_pence"]
            share = due if self.random.random() < 0.6 else self.random.randint(1, due)
            allocations.append({"claim_id": claim["id"], "amount_pence": share})
        today = self.clock.today()
        for paid_on in (today - timedelta(days=self.random.choice((0, 0, 1, 3, 6))), today):
            payment = self._call(
                "POST",
                "/payments",
                "finance",
                {
                    "payer_id": self.a.payer_id,
                    "payee_id": self.a.payee_id,
                    "paid_on": paid_on.isoformat(),
                    "reference": f"BACS {len(self.payments)}-{self.random.random()}",
                    "allocations": allocations,
                },
            )
            if payment is not None:
                break
        assert payment is not None, allocations
        self.payments.append(payment)
        for claim in chosen:
            self._refresh(claim["id"])

    def step(self) -> None:
        self._step()
        self.seen |= {c["status"] for c in self.claims.values()}

    def _step(self) -> None:
        r = self.random
        undecided = self._in("submitted")
        queried = self._in("queried")
        payable = self._in("approved", "part_paid")
        choices = ["submit", "submit"]
        if undecided:
            choices += ["approve", "approve", "approve", "query", "reject", "withdraw", "amend"]
        if queried:
            choices += ["answer", "answer", "amend"]
        if payable:
            choices += ["pay", "pay", "pay"]
        if self.payments:
            choices += ["reverse"]
        choice = r.choice(choices)
        if choice == "submit":
            worked_on = self.clock.today() - timedelta(days=r.randint(0, 12))
            claim = self.w.submit(self.a, worked_on)
            self.claims[claim["id"]] = claim
        elif choice == "approve":
            claim = r.choice(undecided)
            amount = claim["amount_pence"] if r.random() < 0.7 else claim["amount_pence"] // 2
            reason = {"reason": "Fares not receipted"} if amount < claim["amount_pence"] else {}
            self._act(claim, "approve", "approver", {"amount_pence": amount, **reason})
        elif choice == "query":
            self._act(r.choice(undecided), "query", "approver", {"question": "Which session?"})
        elif choice == "answer":
            self._act(r.choice(queried), "answer", "vcse_member", {"answer": "The second."})
        elif choice == "reject":
            self._act(r.choice(undecided), "reject", "approver", {"reason": "Not in scope"})
        elif choice == "withdraw":
            self._act(r.choice(undecided), "withdraw", "vcse_member")
        elif choice == "amend":
            claim = r.choice(undecided + queried)
            body = self.w.claim_body(self.a, date.fromisoformat(claim["lines"][0]["worked_on"]))
            body.pop("agreement_id")
            body["lines"][0]["hours"] = str(r.choice((1, 2, 3, 4, 6)))
            amended = self._call(
                "PATCH",
                f"/claims/{claim['id']}",
                "vcse_member",
                body,
                headers={"If-Match": f'"{claim["version"]}"'},
            )
            assert amended is not None
            self.claims[amended["id"]] = amended
        elif choice == "pay":
            self._pay(r.sample(payable, k=min(len(payable), r.choice((1, 1, 2, 3)))))
        elif choice == "reverse":
            payment = self.payments.pop(r.randrange(len(self.payments)))
            reversed_ = self._call(
                "POST", f"/payments/{payment['id']}/reverse", "finance", {"reason": "Bounced"}
            )
            assert reversed_ is not None
            self.reversed += 1
            for allocation in payment["allocations"]:
                self._refresh(allocation["claim_id"])


def _replayed(world: World, tenant: Tenant) -> list[Claim]:
    """Every claim of the partnership, replayed from its streams (the reference way)."""
    ledger = world.ledger
    with ledger.reading() as uow:
        ids = uow.connection.execute(
            select(claims.c.id).where(claims.c.partnership_id == tenant.partnership_id)
        ).scalars()
        loaded = [ledger._load_claim(uow, claim_id) for claim_id in ids]
    return [claim for claim in loaded if claim is not None]


def _check(world: World, days: list[date]) -> None:
    a = world.a
    replayed = _replayed(world, a)
    for day in days:
        answer = world.api.ok(
            "GET",
            f"/partnerships/{a.partnership_id}/balances?as_at={day.isoformat()}",
            a.tokens["finance"],
        )
        (row,) = answer["organisations"]
        shown = {k: v for k, v in row.items() if k not in ("organisation_id", "organisation_name")}
        positions = (claim.position_as_at(day) for claim in replayed)
        assert shown == organisation_balance(p for p in positions if p is not None), day


@pytest.mark.parametrize("seed", SEEDS)
def test_maintained_balances_match_replaying_every_claim_on_every_day(
    history_world: World, seed: int
) -> None:
    world = history_world
    clock: MovableClock = world.clock  # type: ignore[attr-defined]
    history = History(world, seed)
    for day in range(DAYS):
        for _ in range(history.random.choice((0, 1, 2, 3))):
            history.step()
        if day % 15 == 14:
            today = clock.today()
            _check(world, [today + timedelta(days=d) for d in (-20, -7, -1, 0, 1, 10, 31, 95)])
        clock.advance(1)
    assert set(CLAIM_STATUSES) <= history.seen, history.seen
    assert history.reversed > 0

    # Every day, from before the first claim to long after the last fact.
    _check(world, [START + timedelta(days=d) for d in range(-2, DAYS + 100)])

    # The balance as at today reads the totals and the open claims only.
    with world.ledger.reading() as uow:
        settled = uow.connection.execute(
            select(claims.c.id).where(claims.c.settled_on.is_not(None))
        ).all()
    assert settled, "some claims settled"

    # Migration 0010's backfill rebuilds the same maintained state from the claims view.
    with world.ledger.store.engine.begin() as connection:
        kept_totals = sorted(connection.execute(select(claim_totals)).all())
        kept_settled = sorted(connection.execute(select(claims.c.id, claims.c.settled_on)).all())
        connection.execute(delete(claim_totals))
        connection.execute(update(claims).values(settled_on=None))
        ledger_migration("0010_claim_totals.py").backfill(connection)
        assert sorted(connection.execute(select(claim_totals)).all()) == kept_totals
        assert (
            sorted(connection.execute(select(claims.c.id, claims.c.settled_on)).all())
            == kept_settled
        )


def test_concurrent_payments_and_reversals_keep_the_totals(history_world: World) -> None:
    """Commands on different claims of one agreement at once (each settling or reopening its
    claim, so each adds to the same `claim_totals` row): no update is lost."""
    world = history_world
    a = world.a
    clock: MovableClock = world.clock  # type: ignore[attr-defined]
    approved = [
        world.act(a, world.submit(a, clock.today()), "approve", "approver") for _ in range(8)
    ]
    app = world.api.client.application

    def at_once(calls: list[tuple[str, Any]]) -> list[Any]:
        barrier = threading.Barrier(len(calls))

        def one(call: tuple[str, Any]) -> Any:
            api = ApiClient(app.test_client())
            barrier.wait()
            return api.ok("POST", call[0], a.tokens["finance"], call[1])

        with ThreadPoolExecutor(len(calls)) as pool:
            return list(pool.map(one, calls))

    payments = at_once(
        [
            (
                "/payments",
                {
                    "payer_id": a.payer_id,
                    "payee_id": a.payee_id,
                    "paid_on": clock.today().isoformat(),
                    "reference": f"BACS {n}",
                    "allocations": [{"claim_id": c["id"], "amount_pence": c["approved_pence"]}],
                },
            )
            for n, c in enumerate(approved)
        ]
    )
    _check(world, [clock.today(), clock.today() + timedelta(days=60)])
    at_once([(f"/payments/{p['id']}/reverse", {"reason": "Bounced"}) for p in payments[:4]])
    _check(world, [clock.today(), clock.today() + timedelta(days=60)])
    with world.ledger.reading() as uow:
        (totals,) = uow.connection.execute(
            select(claim_totals).where(claim_totals.c.agreement_id == a.agreement_id)
        ).all()
    assert (totals.claims, totals.paid_pence) == (
        4,
        sum(c["approved_pence"] for c in approved[4:]),
    )


def test_adding_to_totals_of_an_agreement_without_a_row_is_an_error(database_url: str) -> None:
    """A missing claim_totals row must not silently drop the change."""
    from services.ledger.projections import SUMMED, add_to_totals
    from services.ledger.store import make_engine, upgrade

    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        delta = {**dict.fromkeys(SUMMED, 0), "claims": 1}
        with (
            engine.connect() as connection,
            connection.begin(),
            pytest.raises(RuntimeError, match="claim_totals"),
        ):
            add_to_totals(connection, {"no-such-agreement": delta})
    finally:
        engine.dispose()
