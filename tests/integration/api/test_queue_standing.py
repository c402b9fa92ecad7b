"""Every claim the ledger answers says where it stands: its place in the payer's approval
queue (claims waiting for a decision, most urgent first), working days left to approve and
days left to payment due. Both sides see the same numbers; other payers' queues do not count."""

from __future__ import annotations

from datetime import timedelta

from tests.support.clock import MovableClock
from tests.support.world import World


def test_both_sides_see_the_same_place_and_clocks(world: World, clock: MovableClock) -> None:
    a, b = world.a, world.b
    first = world.submit(a, clock.today())  # Monday 16 November 2026
    clock.advance(1)
    second = world.submit(a, clock.today())
    queried = world.submit(a, clock.today())
    world.act(a, queried, "query", "approver", {"question": "Which ward?"})
    world.submit(b, clock.today())  # another payer's queue
    clock.advance(1)  # Wednesday 18 November
    third = world.submit(a, clock.today())

    def queue(claim_id: str, role: str) -> dict[str, int | None]:
        claim = world.api.ok("GET", f"/claims/{claim_id}", a.tokens[role])
        return claim["queue"]  # type: ignore[no-any-return]

    for role in ("vcse_member", "approver", "finance", "partner_viewer"):
        assert queue(first["id"], role) == {
            "place": 1,
            "of": 3,
            "approval_working_days_left": 3,  # due Monday 23rd: 19, 20, 23 November
            "payment_days_left": 28,  # due 16 December
        }, role
        assert queue(second["id"], role)["place"] == 2
        assert queue(third["id"], role) == {
            "place": 3,
            "of": 3,
            "approval_working_days_left": 5,
            "payment_days_left": 30,
        }
        waiting = queue(queried["id"], role)
        assert (waiting["place"], waiting["of"]) == (None, None)  # waiting on the VCSE side
        assert waiting["approval_working_days_left"] == 4  # a query does not pause it

    # The list answers the same standing for each claim.
    listed = world.api.ok("GET", "/claims", a.tokens["vcse_member"])["items"]
    assert {c["id"]: c["queue"]["place"] for c in listed} == {
        first["id"]: 1,
        second["id"]: 2,
        queried["id"]: None,
        third["id"]: 3,
    }

    # Deciding the first moves everyone up; the decided claim leaves the approval clock.
    approved = world.act(a, first, "approve", "approver")
    assert approved["queue"]["place"] is None
    assert approved["queue"]["approval_working_days_left"] is None
    assert approved["queue"]["payment_days_left"] == 28
    assert queue(second["id"], "vcse_member")["place"] == 1
    assert queue(third["id"], "approver")["of"] == 2

    # Late: negative numbers, counted the same way.
    clock.advance(40)
    late = queue(second["id"], "vcse_member")
    assert late["payment_days_left"] is not None and late["payment_days_left"] < 0
    assert late["approval_working_days_left"] is not None
    assert late["approval_working_days_left"] < 0
    # Paid in full: nothing left to count.
    world.pay(a, approved, approved["amount_pence"], clock.today() - timedelta(days=1))
    assert queue(first["id"], "vcse_member") == {
        "place": None,
        "of": None,
        "approval_working_days_left": None,
        "payment_days_left": None,
    }
