from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from shared.events import catalogue
from shared.events.catalogue import (
    EVENT_TYPES,
    EventDecodeError,
    MalformedEvent,
    UnknownEventType,
    UnsupportedSchemaVersion,
    from_data,
    from_stored,
    new_event,
    to_data,
)
from shared.events.envelope import StoredEvent
from shared.events.types import (
    ALL_EVENT_CLASSES,
    ActivityRates,
    AgreementAmended,
    AgreementSigned,
    Allocation,
    ApiTokensRevoked,
    ClaimAmended,
    ClaimApproved,
    ClaimLine,
    ClaimQueried,
    ClaimQueryAnswered,
    ClaimRejected,
    ClaimSubmitted,
    ClaimWithdrawn,
    Event,
    ExpenseLine,
    InvoiceIssued,
    OrganisationIdentifiersRecorded,
    OrganisationRegistered,
    PartnershipFormed,
    PaymentRecorded,
    PaymentReversed,
    PersonAdded,
    PersonalDataErased,
    PreferredLanguageChosen,
    RateCard,
)

D = date(2026, 4, 2)
CARD = RateCard.of(2500, 8000, 15000, {"training": ActivityRates(hourly_pence=2000)})
LINES = (
    ClaimLine(D, Decimal("3.5"), "co_design", "Amina Khan", "Workshop", 8000, "half_day"),
    ClaimLine(D, Decimal("0.25"), "meeting", "Jo", "Call", 625, "hourly"),
)
EXPENSES = (ExpenseLine("travel", 1240, "Bus fares"),)
ALLOCATIONS = (Allocation("c1", 5000), Allocation("c2", 1))

SAMPLES: list[Event] = [
    OrganisationRegistered("o1", "Hope Street", "vcse", "1234567", None, "hi@hope.example"),
    OrganisationRegistered("o2", "North ICB", "statutory"),
    PersonAdded("u1", "o1", "Amina Khan", "amina@hope.example", ("vcse_member", "vcse_admin")),
    PartnershipFormed("p1", "Northside", ("o1", "o2")),
    AgreementSigned(
        "a1", "p1", "o2", "o1", "england", D, date(2027, 3, 31), CARD, 1_200_000, 30, 5
    ),
    AgreementSigned("a2", "p1", "o2", "o1", "wales", D, D, RateCard.of(1), None, 10, 0, ()),
    AgreementAmended("a1", budget_pence=2_000_000),
    AgreementAmended("a1", None, D, 20, 3, CARD, (1, 7)),
    ClaimSubmitted("c1", "a1", "p1", "o2", "o1", "u1", D, LINES, EXPENSES, 9865, D, D),
    ClaimSubmitted("c2", "a1", "p1", "o2", "o1", "u1", D, LINES[:1], (), 8000, D, D),
    ClaimAmended("c1", "u1", D, LINES, (), 8625, answers_query=True),
    ClaimQueried("c1", "u2", D, "Which meeting?"),
    ClaimQueryAnswered("c1", "u1", D, "The board"),
    ClaimApproved("c1", "u2", D, 8000, 8625, "One hour less"),
    ClaimApproved("c1", "u2", D, 8625, 8625),
    ClaimRejected("c1", "u2", D, "Out of scope"),
    ClaimWithdrawn("c1", "u1", D),
    PaymentRecorded("pay1", "p1", "o2", "o1", "u3", D, "BACS 4471", 5001, ALLOCATIONS),
    PaymentReversed("pay1", "p1", "o2", "o1", "u3", D, "Bounced", ALLOCATIONS),
    PersonalDataErased("e1", ("person:u1", "claim:c1"), "request", D),
    InvoiceIssued("i1", "o1", "o2", "p1", "u1", D, 1, "BR-00001", ("c1",), 8625, 0, D),
    OrganisationIdentifiersRecorded("o1", "1234567", None, "GB123456789", "0088:5012345000008"),
    InvoiceIssued("i2", "o1", "o2", "p1", "u1", D, 2, "BR-00002", ("c1", "c2"), 9, 1, D, "2026-11"),
    ApiTokensRevoked("u1", "o1", ("ab" * 32, "cd" * 32)),
    PreferredLanguageChosen("o1", None, "cy"),
    PreferredLanguageChosen("o1", "u1", "en"),
]


def test_every_type_is_catalogued_under_its_class_name() -> None:
    assert set(EVENT_TYPES) == {cls.__name__ for cls in ALL_EVENT_CLASSES}
    assert len(EVENT_TYPES) == 19
    for cls in ALL_EVENT_CLASSES:
        assert cls.event_type == cls.__name__
        assert cls.schema_version == 1
    assert {type(e).__name__ for e in SAMPLES} == set(EVENT_TYPES)


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: type(e).__name__)
def test_round_trip_through_json(event: Event) -> None:
    event_type, version, data = to_data(event)
    assert (event_type, version) == (type(event).__name__, 1)
    wire = json.loads(json.dumps(data))
    assert wire == data
    assert from_data(event_type, version, wire) == event


def test_json_shapes() -> None:
    _, _, data = to_data(SAMPLES[8])
    assert data["submitted_on"] == "2026-04-02"
    assert data["lines"][0]["hours"] == "3.5"
    assert data["lines"][1]["hours"] == "0.25"
    assert data["lines"][0]["worked_on"] == "2026-04-02"
    _, _, signed = to_data(SAMPLES[4])
    assert signed["rates"]["by_activity"] == {
        "training": {"hourly_pence": 2000, "half_day_pence": None, "day_pence": None}
    }
    assert signed["reminder_schedule"] == [-3, 1, 7, 14, 21]


def test_optional_fields_may_be_absent_on_the_wire() -> None:
    event = from_data(
        "OrganisationRegistered", 1, {"organisation_id": "o", "name": "N", "kind": "vcse"}
    )
    assert event == OrganisationRegistered("o", "N", "vcse")


def test_unknown_type() -> None:
    with pytest.raises(UnknownEventType, match="'ClaimExploded'") as caught:
        from_data("ClaimExploded", 1, {})
    assert isinstance(caught.value, EventDecodeError)


@pytest.mark.parametrize("version", [0, 2, 99, True, "1"])
def test_unsupported_versions(version: Any) -> None:
    with pytest.raises(UnsupportedSchemaVersion):
        from_data(
            "ClaimWithdrawn",
            version,
            {"claim_id": "c", "withdrawn_by": "u", "withdrawn_on": "2026-04-02"},
        )


GOOD_WITHDRAWN = {"claim_id": "c1", "withdrawn_by": "u1", "withdrawn_on": "2026-04-02"}


@pytest.mark.parametrize(
    ("event_type", "data", "fragment"),
    [
        ("ClaimWithdrawn", {"claim_id": "c1", "withdrawn_by": "u1"}, "withdrawn_on"),
        ("ClaimWithdrawn", {**GOOD_WITHDRAWN, "withdrawn_on": "02/04/2026"}, "withdrawn_on"),
        ("ClaimWithdrawn", {**GOOD_WITHDRAWN, "extra": 1}, "extra"),
        ("ClaimWithdrawn", {**GOOD_WITHDRAWN, "claim_id": 7}, "claim_id"),
        ("ClaimWithdrawn", [GOOD_WITHDRAWN], "JSON object"),
        (
            "ClaimRejected",
            {"claim_id": "c1", "rejected_by": "u", "rejected_on": "2026-04-02", "reason": None},
            "reason",
        ),
        (
            "ClaimApproved",
            {
                "claim_id": "c1",
                "approved_by": "u",
                "approved_on": "2026-04-02",
                "amount_pence": 10.5,
                "claimed_pence": 11,
            },
            "amount_pence",
        ),
        (
            "ClaimApproved",
            {
                "claim_id": "c1",
                "approved_by": "u",
                "approved_on": "2026-04-02",
                "amount_pence": True,
                "claimed_pence": 11,
            },
            "amount_pence",
        ),
        (
            "PaymentRecorded",
            {**to_data(SAMPLES[17])[2], "allocations": [{"claim_id": "c1"}]},
            "allocations.0.amount_pence",
        ),
        (
            "ClaimSubmitted",
            {
                **to_data(SAMPLES[9])[2],
                "lines": [{**to_data(SAMPLES[9])[2]["lines"][0], "hours": "lots"}],
            },
            "lines.0.hours",
        ),
        (
            "AgreementSigned",
            {
                **to_data(SAMPLES[4])[2],
                "rates": {"hourly_pence": 1, "by_activity": {"training": {"hourly_pence": "x"}}},
            },
            "rates.by_activity.training.hourly_pence",
        ),
        (
            "AgreementSigned",
            {**to_data(SAMPLES[4])[2], "rates": {"hourly_pence": 1, "by_activity": []}},
            "rates.by_activity",
        ),
    ],
)
def test_malformed_data(event_type: str, data: Any, fragment: str) -> None:
    with pytest.raises(MalformedEvent) as caught:
        from_data(event_type, 1, data)
    assert fragment in caught.value.reason
    assert isinstance(caught.value, EventDecodeError)


def test_to_data_refuses_what_is_not_an_event() -> None:
    with pytest.raises(TypeError, match="not a catalogued event"):
        to_data(ActivityRates())  # type: ignore[arg-type]


def test_upcasters_bring_old_versions_up_to_date(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend ClaimWithdrawn is at v2, whose only change renamed ``by`` to ``withdrawn_by``."""
    schema = catalogue.SCHEMAS[("ClaimWithdrawn", 1)]
    monkeypatch.setitem(catalogue.CURRENT_VERSIONS, "ClaimWithdrawn", 2)
    monkeypatch.setitem(catalogue.SCHEMAS, ("ClaimWithdrawn", 2), schema)

    def rename(data: dict[str, Any]) -> dict[str, Any]:
        data = dict(data)
        data["withdrawn_by"] = data.pop("by")
        return data

    with pytest.raises(UnsupportedSchemaVersion):
        from_data("ClaimWithdrawn", 1, {"claim_id": "c1", "by": "u1", "withdrawn_on": "2026-04-02"})
    monkeypatch.setitem(catalogue.UPCASTERS, ("ClaimWithdrawn", 1), rename)
    old = {"claim_id": "c1", "by": "u1", "withdrawn_on": "2026-04-02"}
    assert from_data("ClaimWithdrawn", 1, old) == ClaimWithdrawn("c1", "u1", D)
    with pytest.raises(MalformedEvent, match="cannot upcast"):
        from_data("ClaimWithdrawn", 1, {"claim_id": "c1"})


def test_envelope_helpers() -> None:
    event = SAMPLES[8]
    fresh = new_event(event)
    assert (fresh.type, fresh.schema_version) == ("ClaimSubmitted", 1)
    stored = StoredEvent(
        global_position=1,
        event_id=fresh.event_id,
        type=fresh.type,
        schema_version=fresh.schema_version,
        stream_id="claim-c1",
        stream_version=1,
        partition_key="p1",
        occurred_at=datetime(2026, 4, 2, 9, tzinfo=UTC),
        actor="u1",
        correlation_id=None,
        causation_id=None,
        data=json.loads(json.dumps(fresh.data)),
    )
    assert from_stored(stored) == event
