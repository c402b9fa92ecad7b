"""Reads cost a bounded number of SQL statements whatever the store's size: balances, a page of
`GET /claims` (for each kind of reader) and `GET /claims/{id}` issue as many statements with 20
claims in the partnership as with 200. A count of statements, not a timing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event

from services.ledger.access import Principal
from services.ledger.api.schemas import ClaimIn
from tests.support.clock import MovableClock
from tests.support.world import Tenant, World


@contextmanager
def counting(world: World) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    engine = world.ledger.store.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _submit(world: World, tenant: Tenant, count: int, clock: MovableClock) -> None:
    """`count` claims straight through the application service (what POST /claims does)."""
    ledger = world.ledger
    vcse = Principal(
        tenant.person_ids["vcse_member"], tenant.payee_id, "vcse", frozenset({"vcse_member"})
    )
    for n in range(count):
        body = world.claim_body(tenant, clock.today() - timedelta(days=n % 10))
        with ledger.store.unit_of_work() as uow:
            ledger.submit_claim(uow, vcse, ClaimIn().load(body))


def _settle_some(world: World, tenant: Tenant, clock: MovableClock) -> dict[str, Any]:
    """A few claims with longer histories: approved, paid in part and in full, queried."""
    claims = [world.submit(tenant, clock.today()) for _ in range(4)]
    clock.advance(1)
    for claim in claims[:3]:
        approved = world.act(tenant, claim, "approve", "approver")
        world.pay(
            tenant, approved, approved["amount_pence"] // (1 + claims.index(claim)), clock.today()
        )
    world.act(tenant, claims[3], "query", "approver", {"question": "Which session?"})
    return claims[0]


def _costs(world: World, claim_id: str) -> dict[str, int]:
    a = world.a
    requests = {
        "balances (finance)": ("finance", f"/partnerships/{a.partnership_id}/balances"),
        "balances as at (vcse)": (
            "vcse_member",
            f"/partnerships/{a.partnership_id}/balances?as_at=2026-10-01",
        ),
        "claims page (vcse)": ("vcse_member", "/claims"),
        "claims page (approver)": ("approver", "/claims?limit=50"),
        "claims page (partner viewer)": ("partner_viewer", "/claims"),
        "claims page by status": ("approver", "/claims?status=submitted"),
        "one claim": ("vcse_member", f"/claims/{claim_id}"),
    }
    costs = {}
    for name, (role, path) in requests.items():
        with counting(world) as statements:
            world.api.ok("GET", path, a.tokens[role])
        costs[name] = len(statements)
    # The second page, by the first page's cursor.
    first = world.api.ok("GET", "/claims?limit=10", a.tokens["approver"])
    with counting(world) as statements:
        world.api.ok("GET", f"/claims?limit=10&cursor={first['next_cursor']}", a.tokens["approver"])
    costs["next page"] = len(statements)
    return costs


def test_reads_cost_the_same_at_20_and_200_claims(world: World, clock: MovableClock) -> None:
    claim = _settle_some(world, world.a, clock)
    _submit(world, world.a, 16, clock)
    _submit(world, world.b, 20, clock)
    small = _costs(world, claim["id"])

    _submit(world, world.a, 180, clock)
    _settle_some(world, world.a, clock)
    _submit(world, world.b, 200, clock)
    large = _costs(world, claim["id"])

    assert large == small
    # A handful each: the page, its claims' queue standing (2) and, for a claim, the access
    # audit's row; never one per claim.
    assert max(small.values()) <= 10, small
