"""The demo partnership: a small, realistic Northside partnership with claims in every state.

Claims are loaded with the clock set to the day they happened, as an import of history
would, so some are overdue today and the notifier has something to say.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from PIL import Image, ImageDraw

from shared import clock as product_clock
from shared.settings import LedgerSettings

from .access import Principal
from .application import Ledger
from .invoicing import Invoicing
from .store import EventStore, make_engine
from .store.migrate import upgrade
from .web.passwords import set_password

# The web forms' password of every demo person (demo data only: never a real installation).
DEMO_PASSWORD = "bridges-demo"  # noqa: S105

ORGANISATIONS = {
    "icb": ("Northside Integrated Care Board", "statutory", None),
    "council": ("Northside City Council", "statutory", None),
    "hope": ("Hope Street Community Trust", "vcse", "1234567"),
    "carers": ("Northside Carers Network", "vcse", "1098765"),
    "roots": ("Roots Peer Support CIC", "vcse", None),
}
# Where e-invoices are addressed (Peppol participant ids: GLNs, fictional like the rest).
PEPPOL_IDS = {"icb": "0088:5098765000002", "hope": "0088:5012345000008"}
PEOPLE = {
    "operator": ("icb", "Sam Operator", "operator@northside-icb.example", ["operator"]),
    "approver": ("icb", "Priya Shah", "priya.shah@northside-icb.example", ["approver"]),
    "finance": ("icb", "Tom Reid", "tom.reid@northside-icb.example", ["finance"]),
    "partner_viewer": (
        "council",
        "Grace Okafor",
        "grace.okafor@northside.example",
        ["partner_viewer"],
    ),
    "council_finance": (
        "council",
        "Dev Patel",
        "dev.patel@northside.example",
        ["finance", "approver"],
    ),
    "vcse_admin": ("hope", "Maria Lopez", "maria@hopestreet.example", ["vcse_admin"]),
    "vcse_member": ("hope", "Amina Khan", "amina@hopestreet.example", ["vcse_member"]),
    "carers_member": ("carers", "Joe Bloggs", "joe@carers.example", ["vcse_member"]),
    "roots_member": ("roots", "Lena Novak", "lena@roots.example", ["vcse_member", "vcse_admin"]),
}


def _principal(person: dict[str, Any], kind: str) -> Principal:
    return Principal(
        person_id=person["id"],
        organisation_id=person["organisation_id"],
        organisation_kind=kind,
        roles=frozenset(person["roles"]),
    )


def bus_ticket_photo(day: date) -> bytes:
    """A photo of a day ticket, as a phone takes it: a JPEG whose EXIF says where it was
    taken (Bridges strips that on upload)."""
    image = Image.new("RGB", (480, 320), (250, 248, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 10, 470, 310), outline=(40, 40, 40), width=3)
    for row, text in enumerate(
        (
            "NORTHSIDE BUSES",
            "DAY TICKET - ADULT x2",
            f"{day:%d %b %Y}  09:12",
            "Route 42  Hope Street - Northside General",
            "TOTAL  GBP 12.40",
            "Thank you for travelling with us",
        )
    ):
        draw.text((30, 30 + row * 45), text, fill=(20, 20, 20), font_size=22 if row else 30)
    exif = Image.Exif()
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (53.0, 28.0, 48.0), 3: "W", 4: (2.0, 14.0, 24.0)})
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85, exif=exif)
    return out.getvalue()


def seed(settings: LedgerSettings, *, today: date | None = None) -> dict[str, Any]:
    """Load the demo partnership into the settings' database; return its ids and tokens."""
    upgrade(settings.database_url)
    today = today or product_clock.today()
    now = [datetime.combine(today, time(10, 0), tzinfo=UTC)]
    clock: Callable[[], datetime] = lambda: now[0]  # noqa: E731
    ledger = Ledger(EventStore(make_engine(settings.database_url)), settings=settings, clock=clock)

    def on(day: date) -> None:
        now[0] = datetime.combine(day, time(10, 0), tzinfo=UTC)

    on(today - timedelta(days=120))
    orgs: dict[str, dict[str, Any]] = {}
    people: dict[str, Principal] = {}
    tokens: dict[str, str] = {}
    with ledger.store.unit_of_work() as uow:
        for key, (name, kind, charity) in ORGANISATIONS.items():
            orgs[key] = ledger.register_organisation(
                uow,
                None,
                {
                    "name": name,
                    "kind": kind,
                    "charity_number": charity,
                    "peppol_id": PEPPOL_IDS.get(key),
                },
            )
        for key, (org_key, name, email, roles) in PEOPLE.items():
            person = ledger.add_person(
                uow, None, orgs[org_key]["id"], {"name": name, "email": email, "roles": roles}
            )
            people[key] = _principal(person, orgs[org_key]["kind"])
            tokens[key] = ledger.issue_token(uow, person["id"])
            set_password(uow.connection, person["id"], DEMO_PASSWORD)
    operator = people["operator"]
    with ledger.store.unit_of_work() as uow:
        partnership = ledger.form_partnership(
            uow,
            operator,
            {
                "name": "Northside Health Equity Partnership",
                "organisation_ids": [o["id"] for o in orgs.values()],
            },
        )
    starts = today - timedelta(days=200)
    ends = today + timedelta(days=300)

    def agreement(payer: str, payee: str, hourly: int, budget: int) -> dict[str, Any]:
        with ledger.store.unit_of_work() as uow:
            return ledger.sign_agreement(
                uow,
                operator,
                partnership["id"],
                {
                    "payer_id": orgs[payer]["id"],
                    "payee_id": orgs[payee]["id"],
                    "nation": "england",
                    "starts_on": starts,
                    "ends_on": ends,
                    "rates": {
                        "hourly_pence": hourly,
                        "half_day_pence": hourly * 3,
                        "day_pence": hourly * 6,
                        "by_activity": {"training": {"hourly_pence": hourly - 500}},
                    },
                    "budget_pence": budget,
                    "payment_terms_days": 30,
                    "approval_sla_working_days": 5,
                },
            )

    hope_icb = agreement("icb", "hope", 2500, 1_200_000)
    carers_icb = agreement("icb", "carers", 2200, 400_000)
    roots_council = agreement("council", "roots", 2000, 300_000)

    def submit(
        who: str,
        agreement_row: dict[str, Any],
        days_ago: int,
        lines: list[Any],
        expenses: list[Any] | None = None,
    ) -> dict[str, Any]:
        on(today - timedelta(days=days_ago))
        with ledger.store.unit_of_work() as uow:
            return ledger.submit_claim(
                uow,
                people[who],
                {
                    "agreement_id": agreement_row["id"],
                    "lines": lines,
                    "expenses": expenses or [],
                },
            )

    def act(
        who: str,
        claim: dict[str, Any],
        days_ago: int,
        action: str,
        data: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        on(today - timedelta(days=days_ago))
        with ledger.store.unit_of_work() as uow:
            return ledger.claim_command(
                uow, people[who], claim["id"], claim["version"], action, data or {}
            )

    def pay(
        who: str,
        payer: str,
        payee: str,
        days_ago: int,
        reference: str,
        allocations: list[tuple[dict[str, Any], int]],
    ) -> dict[str, Any]:
        on(today - timedelta(days=days_ago))
        with ledger.store.unit_of_work() as uow:
            return ledger.record_payment(
                uow,
                people[who],
                {
                    "payer_id": orgs[payer]["id"],
                    "payee_id": orgs[payee]["id"],
                    "paid_on": today - timedelta(days=days_ago),
                    "reference": reference,
                    "allocations": [
                        {"claim_id": c["id"], "amount_pence": amount} for c, amount in allocations
                    ],
                },
            )

    def line(
        days_before: int, hours: str, activity: str, worker: str, text: str, at: int
    ) -> dict[str, Any]:
        return {
            "worked_on": today - timedelta(days=at + days_before),
            "hours": hours,
            "activity": activity,
            "worker": worker,
            "description": text,
        }

    # Paid on time: a board meeting and its preparation.
    c1 = submit(
        "vcse_member",
        hope_icb,
        95,
        [
            line(3, "2", "meeting", "Amina Khan", "ICB health inequalities board", 95),
            line(4, "1.5", "preparation", "Amina Khan", "Reading board papers", 95),
        ],
    )
    c1 = act("approver", c1, 92, "approve")
    pay("finance", "icb", "hope", 80, "BACS 4401", [(c1, c1["amount_pence"])])

    # Approved but never paid: overdue, past 30 days. The bus fares carry their receipt.
    on(today - timedelta(days=70))
    with ledger.store.unit_of_work() as uow:
        ticket = ledger.upload_receipt(
            uow, people["vcse_member"], bus_ticket_photo(today - timedelta(days=72))
        )
    c2 = submit(
        "vcse_member",
        hope_icb,
        70,
        [
            line(2, "7", "co_design", "Amina Khan", "Co-design day, diabetes pathway", 70),
            line(2, "3.5", "co_design", "Maria Lopez", "Co-design half day, diabetes pathway", 70),
        ],
        [
            {
                "category": "travel",
                "amount_pence": 1240,
                "description": "Bus fares",
                "receipts": [ticket["id"]],
            }
        ],
    )
    c2 = act("approver", c2, 66, "approve")
    # Hope Street sends the ICB its e-invoice for it two days later.
    on(today - timedelta(days=64))
    with ledger.store.unit_of_work() as uow:
        invoice, _ = Invoicing(ledger).issue_for_claim(uow, people["vcse_member"], c2["id"])

    # Part-approved with a reason, then part-paid.
    c3 = submit(
        "carers_member",
        carers_icb,
        50,
        [
            line(1, "4", "peer_learning", "Joe Bloggs", "Carers peer-learning session", 50),
            line(2, "2", "travel", "Joe Bloggs", "Travel to the session", 50),
        ],
    )
    c3 = act(
        "approver",
        c3,
        45,
        "approve",
        {
            "amount_pence": c3["amount_pence"] - 2200,
            "reason": "One hour of travel is outside the agreement's travel allowance",
        },
    )
    pay("finance", "icb", "carers", 20, "BACS 4477", [(c3, 5000)])

    # Queried, waiting on the charity: the dispute clock is running.
    c4 = submit(
        "vcse_member",
        hope_icb,
        25,
        [
            line(1, "3", "buddy_scheme", "Amina Khan", "Buddy scheme, discharge support", 25),
        ],
    )
    act("approver", c4, 20, "query", {"question": "Which ward was this for?"})

    # Submitted, past the approval SLA and heading for overdue.
    submit(
        "roots_member",
        roots_council,
        40,
        [
            line(1, "2.5", "meeting", "Lena Novak", "Mental health partnership board", 40),
            line(2, "6", "training", "Lena Novak", "Trauma-informed practice training", 40),
        ],
    )

    # Fresh claims this week.
    submit(
        "vcse_member",
        hope_icb,
        2,
        [
            line(1, "1.25", "meeting", "Maria Lopez", '"If only they knew…" conversation', 2),
        ],
    )
    submit(
        "carers_member",
        carers_icb,
        1,
        [
            line(1, "3.5", "co_design", "Joe Bloggs", "Carers' voice in the frailty pathway", 1),
        ],
    )

    return {
        "partnership_id": partnership["id"],
        "organisations": {key: org["id"] for key, org in orgs.items()},
        "agreements": [
            {"id": a["id"], "payer_id": a["payer_id"], "payee_id": a["payee_id"]}
            for a in (hope_icb, carers_icb, roots_council)
        ],
        "invoice": {"id": invoice["id"], "number": invoice["number"], "claim_id": c2["id"]},
        "web": {
            "password": DEMO_PASSWORD,
            "people": {key: email for key, (_org, _name, email, _roles) in PEOPLE.items()},
        },
        "tokens": {
            role: tokens[role]
            for role in (
                "vcse_member",
                "vcse_admin",
                "approver",
                "finance",
                "partner_viewer",
                "operator",
            )
        },
    }
