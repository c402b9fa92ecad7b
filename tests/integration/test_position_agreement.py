"""One truth for a claim's position: random histories driven through the ledger's API (submit,
query, answer, amend, approve in part, pay in part, backdated payments, reversals) and fed to
the notifier's read model from the ledger's ordered feed, as the relay would, agree everywhere
at random "as at" dates: the ledger's claim view, its domain's position, its balances, and the
notifier's position, outstanding statement and indicators.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from services.ledger.api.app import create_app
from services.ledger.application import Ledger
from services.ledger.store import upgrade as upgrade_ledger
from services.notifier.indicators import Period, Scope
from services.notifier.indicators.load import indicators_for
from services.notifier.interest import BaseRate, BaseRateHistory
from services.notifier.projection import apply_event
from services.notifier.statements import produce_statement
from services.notifier.store.migrate import upgrade as upgrade_notifier
from services.notifier.store.read_model import load_claims
from shared.aging import AGING_BUCKETS
from shared.events import catalogue
from shared.settings import LedgerSettings
from shared.sql import begin_write, make_engine
from tests.support.clock import MovableClock
from tests.support.world import ApiClient, Tenant, World, add_tenant, build_world

START = date(2026, 1, 5)  # each history starts here: the clock is an input
RATES = BaseRateHistory((BaseRate(date(2024, 1, 1), Decimal("4.00")),))
ACTIONS = ("query", "answer", "amend", "approve", "approve", "pay", "pay", "reverse", "reject")
_references = itertools.count(1)


TENANTS = 8  # histories take turns, so each partnership's sums hold many claims


@dataclass
class Scene:
    world: World
    clock: MovableClock
    notifier: Engine
    tenants: list[Tenant]
    fed: int = 0
    histories: int = 0
    checks: int = 0
    kinds: set[str] = field(default_factory=set)

    @property
    def ledger(self) -> Ledger:
        return self.world.ledger

    @property
    def tenant(self) -> Tenant:
        return self.tenants[self.histories % len(self.tenants)]

    def feed_notifier(self) -> None:
        """What the relay and the consumer do, without the broker: the feed, in order."""
        with begin_write(self.notifier) as connection:
            while page := self.ledger.store.read_feed(after=self.fed, limit=500):
                for stored in page:
                    apply_event(connection, stored, catalogue.from_stored(stored))
                self.fed = page[-1].global_position


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    folder: Path = tmp_path_factory.mktemp("agreement")
    ledger_url = f"sqlite:///{folder / 'ledger.db'}"
    notifier_url = f"sqlite:///{folder / 'notifier.db'}"
    upgrade_ledger(ledger_url)
    upgrade_notifier(notifier_url)
    clock = MovableClock(START)
    settings_ = LedgerSettings(database_url=ledger_url, var_dir=str(folder))
    app = create_app(settings_, clock=clock, testing=True)
    world = build_world(ApiClient(app.test_client()), app.extensions["bridges.ledger"], START)
    tenants = [world.a, world.b]
    for number in range(TENANTS - len(tenants)):
        tenants.append(
            add_tenant(world.api, world.ledger, world.operator_token, f"t{number}", START)
        )
    notifier = make_engine(notifier_url)
    yield Scene(world, clock, notifier, tenants)
    notifier.dispose()


Step = tuple[int, str, int, int]  # days to wait, action, percent, days to backdate a payment

steps = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=12),
        st.sampled_from(ACTIONS),
        st.integers(min_value=1, max_value=100),
        st.integers(min_value=0, max_value=10),
    ),
    min_size=1,
    max_size=12,
)
as_at_days = st.lists(st.integers(min_value=-3, max_value=220), min_size=2, max_size=4)


class History:
    """One claim moved along through the API by the roles that may."""

    def __init__(self, scene: Scene) -> None:
        self.scene = scene
        self.world = scene.world
        self.tenant = scene.tenant
        scene.clock.set(START)
        self.claim = self.world.submit(self.tenant, START - timedelta(days=1))
        self.payments: list[dict[str, Any]] = []  # not reversed
        self.payable_from: date | None = None

    @property
    def today(self) -> date:
        return self.scene.clock.today()

    def run(self, step: Step) -> None:
        wait, action, percent, backdate = step
        self.scene.clock.advance(wait)
        status = self.claim["status"]
        if action == "query" and status == "submitted":
            self._act("query", "approver", {"question": "Which ward was this?"})
        elif action == "answer" and status == "queried":
            self._act("answer", "vcse_member", {"answer": "Ward 7, discharge lounge"})
        elif action == "amend" and status in ("submitted", "queried"):
            self._amend(percent)
        elif action == "approve" and status == "submitted":
            amount = max(1, self.claim["amount_pence"] * percent // 100)
            body: dict[str, Any] = {"amount_pence": amount}
            if amount < self.claim["amount_pence"]:
                body["reason"] = "Part of it was outside the programme"
            self._act("approve", "finance", body)
            self.payable_from = self.today
        elif action == "reject" and status == "submitted" and percent <= 10:
            self._act("reject", "approver", {"reason": "Outside the programme"})
        elif action == "pay" and status in ("approved", "part_paid"):
            self._pay(percent, backdate)
        elif action == "reverse" and self.payments and percent <= 40:
            self._reverse()
        else:
            return
        self.scene.kinds.add(action)

    def _act(self, action: str, role: str, body: dict[str, Any]) -> None:
        self.claim = self.world.act(self.tenant, self.claim, action, role, body)

    def _amend(self, percent: int) -> None:
        body = self.world.claim_body(self.tenant, self.today - timedelta(days=1))
        body.pop("agreement_id")
        body["lines"][0]["hours"] = str(Decimal(max(1, percent // 10)) / 4 + 1)
        self.claim = self.world.api.ok(
            "PATCH",
            f"/claims/{self.claim['id']}",
            self.tenant.tokens["vcse_member"],
            body,
            headers={"If-Match": f'"{self.claim["version"]}"'},
        )

    def _pay(self, percent: int, backdate: int) -> None:
        assert self.payable_from is not None
        amount = max(1, self.claim["outstanding_pence"] * percent // 100)
        paid_on = max(self.payable_from, self.today - timedelta(days=backdate))
        payment = self.world.pay(self.tenant, self.claim, amount, paid_on)
        if backdate:
            self.scene.kinds.add("backdated")
        self.payments.append(payment)
        self._refresh()

    def _reverse(self) -> None:
        payment = self.payments.pop(0)
        self.world.api.ok(
            "POST",
            f"/payments/{payment['id']}/reverse",
            self.tenant.tokens["finance"],
            {"reason": "Returned by the bank"},
        )
        self.payable_from = self.today  # a new payment may not predate the reversal
        self._refresh()

    def _refresh(self) -> None:
        self.claim = self.world.api.ok(
            "GET", f"/claims/{self.claim['id']}", self.tenant.tokens["vcse_member"]
        )


def check_agreement(scene: Scene, tenant: Tenant, claim_id: str, today: date, as_at: date) -> None:
    api = scene.world.api
    with scene.ledger.reading() as uow:
        (claim,) = scene.ledger.load_claims(uow, [claim_id])
    with begin_write(scene.notifier) as connection:
        (timeline,) = load_claims(connection, claim_ids=[claim_id])
        statement = produce_statement(
            connection,
            tenant.partnership_id,
            tenant.payee_id,
            tenant.payer_id,
            "outstanding",
            as_at=as_at,
            now=datetime.combine(today, datetime.min.time(), tzinfo=UTC),
            rates=RATES,
            record=False,
        ).body
        indicators = indicators_for(
            connection,
            Scope(partnership_id=tenant.partnership_id),
            Period(START - timedelta(days=10), as_at),
            today=as_at,
            rates=RATES,
        )

    # The claim itself: the ledger's domain and the notifier fold the same facts alike.
    assert claim.position_as_at(as_at) == timeline.state_as_at(as_at), as_at
    # The ledger's claim view (today) says what the notifier's position says.
    view = api.ok("GET", f"/claims/{claim_id}", tenant.tokens["vcse_member"])
    now = timeline.state_as_at(today)
    assert now is not None
    assert (view["status"], view["approved_pence"], view["paid_pence"]) == (
        now.status,
        now.approved_pence,
        now.paid_pence,
    )
    assert (view["outstanding_pence"], view["payment_due"]) == (
        now.outstanding_pence,
        now.payment_due.isoformat(),
    )

    # The ledger's balances, the notifier's statement and its indicators: one set of sums.
    balances = api.ok(
        "GET",
        f"/partnerships/{tenant.partnership_id}/balances?as_at={as_at.isoformat()}",
        tenant.tokens["partner_viewer"],
    )
    (row,) = [r for r in balances["organisations"] if r["organisation_id"] == tenant.payee_id]
    assert row["outstanding_pence"] == statement.approved_outstanding_pence
    assert row["awaiting_approval_pence"] == statement.awaiting_approval_pence
    assert row["overdue_pence"] == statement.overdue_pence
    by_bucket = {total.bucket: total.open_pence for total in statement.buckets}
    assert row["aging"] == {bucket: by_bucket[bucket] for bucket in AGING_BUCKETS}
    figures = {figure.key: figure.value for figure in indicators.figures}
    assert figures["outstanding_pence"] == statement.open_pence
    assert figures["overdue_pence"] == statement.overdue_pence
    assert figures["awaiting_approval_pence"] == statement.awaiting_approval_pence
    scene.checks += 1


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=steps, days=as_at_days)
def test_every_view_of_a_claim_agrees_on_every_day(
    scene: Scene, history: list[Step], days: list[int]
) -> None:
    story = History(scene)
    for step in history:
        story.run(step)
    scene.feed_notifier()
    today = story.today
    for offset in [*days, (today - START).days]:
        as_at = START + timedelta(days=offset)
        check_agreement(scene, story.tenant, story.claim["id"], today, as_at)
    scene.histories += 1


def test_the_random_histories_covered_every_kind_of_fact(scene: Scene) -> None:
    """Runs after the property (same module, same scene): it really drove 200 histories."""
    assert scene.histories >= 200
    assert scene.checks >= 600
    assert {"query", "answer", "amend", "approve", "pay", "backdated", "reverse"} <= scene.kinds
