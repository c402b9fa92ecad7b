"""People's data in the ledger: erasure (crypto-shredding), retention and subject access.

Erasure destroys data keys (store/data_keys.py) and records one `PersonalDataErased` event that
names subjects by id only. It never edits an event's facts: ids, amounts, dates, hours and
statuses stay, so every balance, statement and indicator is the same afterwards. Three things
are rewritten in place, and only these:

- the ledger's views that hold a personal field in the clear (the `people` row; the question,
  answer and reason texts of a claim's facts when they came from events stored before sealing);
- events stored before sealing existed ("legacy" plaintext): an erasure first seals their
  personal fields under the subject's key, in the same transaction, then destroys the key. The
  event keeps its id, position, type and every other value; what changes is only how a
  personal field is held at rest, and it then reads "erased" like any other. Copies of such an
  event already published to Kafka stay readable there until the topic's retention removes
  them (README, "Personal data").

Who is erased with a person: their own record (`person:<id>`), and each claim they submitted
or amended, or whose personal text names them (their full name or email, ignoring case), so a
worker named on someone else's claim is erased too. That claim's free text is erased whole:
one key per claim.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, or_, select, update

from shared.claim_position import FINAL
from shared.events import personal
from shared.events.personal import ERASED, claim_subject, person_subject
from shared.events.types import PersonalDataErased

from .access import Principal
from .application import Ledger, stream
from .errors import Forbidden, NotFound
from .export import claim_history
from .store.access_tables import access_audit, idp_links, sign_ins
from .store.event_store import UnitOfWork, to_stored
from .store.tables import data_keys, events
from .store.views import api_tokens, claims, organisations, people

#: More of what is held about a person (sign-ins, access audit): name → rows, for the export.
PersonExportSection = Callable[[Connection, str], list[dict[str, Any]]]
PERSON_EXPORT_SECTIONS: dict[str, PersonExportSection] = {}

REQUEST = "request"
RETENTION = "retention"
_CLAIM_EVENT_TYPES = tuple(
    name for name, spec in personal.PERSONAL_FIELDS.items() if spec.subject_kind == "claim"
)
_TEXT_FACTS = frozenset({"queried", "answered", "approved", "rejected"})
_ERASURE_PARTITION = "erasures"
_SUBJECTS_PER_EVENT = 500
_CLOSED = FINAL | {"paid"}


@dataclass
class Erasure:
    """What an erasure does (or, in a dry run, would do)."""

    reason: str
    person_id: str | None = None
    subjects: list[str] = field(default_factory=list)
    claim_ids: list[str] = field(default_factory=list)
    legacy_events_sealed: int = 0
    already_erased: list[str] = field(default_factory=list)
    erasure_ids: list[str] = field(default_factory=list)
    # Receipts are personal too: the content hashes whose stored bytes were deleted.
    receipts_erased: list[str] = field(default_factory=list)
    dry_run: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "person_id": self.person_id,
            "dry_run": self.dry_run,
            "subjects": self.subjects,
            "claim_ids": self.claim_ids,
            "already_erased": self.already_erased,
            "legacy_events_sealed": self.legacy_events_sealed,
            "erasure_ids": self.erasure_ids,
            "receipts_erased": self.receipts_erased,
        }


def find_person(connection: Connection, id_or_email: str) -> Any:
    """The `people` row with this id or email (any case), or None."""
    return connection.execute(
        select(people).where(
            or_(people.c.id == id_or_email, func.lower(people.c.email) == id_or_email.lower())
        )
    ).first()


def _claim_events(uow: UnitOfWork) -> list[Any]:
    rows = uow.connection.execute(
        select(events)
        .where(events.c.type.in_(_CLAIM_EVENT_TYPES))
        .order_by(events.c.global_position)
    ).all()
    return uow.data_keys.open([to_stored(row) for row in rows])


def claims_of_person(uow: UnitOfWork, person_id: str, name: str, email: str) -> list[str]:
    """The claims a person submitted or amended, or whose personal text names them."""
    needles = [n.casefold() for n in (name, email) if n and n != ERASED and len(n) >= 3]
    found: dict[str, None] = {}
    for event in _claim_events(uow):
        claim_id = event.data["claim_id"]
        if person_id in (event.data.get("submitted_by"), event.data.get("amended_by")):
            found[claim_id] = None
            continue
        texts = [v.casefold() for v in personal.personal_values(event.type, event.data)]
        if any(needle in text for needle in needles for text in texts):
            found[claim_id] = None
    return list(found)


def plan_person_erasure(uow: UnitOfWork, id_or_email: str) -> Erasure:
    row = find_person(uow.connection, id_or_email)
    if row is None:
        raise NotFound("person")
    plaintext = uow.data_keys.open(uow.read_stream(stream("person", row.id)))
    added = plaintext[0].data if plaintext else {"name": row.name, "email": row.email}
    claim_ids = claims_of_person(uow, row.id, added["name"], added["email"])
    subjects = [person_subject(row.id), *(claim_subject(c) for c in claim_ids)]
    return Erasure(REQUEST, person_id=row.id, subjects=subjects, claim_ids=claim_ids)


def plan_retention(uow: UnitOfWork, today: date, days: int) -> Erasure:
    """Closed claims (paid, rejected, withdrawn) whose last fact is `days` or more old."""
    cutoff = today - timedelta(days=days)
    rows = uow.connection.execute(
        select(claims.c.id, claims.c.facts).where(claims.c.status.in_(sorted(_CLOSED)))
    ).all()
    due = [
        row.id
        for row in rows
        if max(date.fromisoformat(f["on"]) for f in row.facts or [{"on": today.isoformat()}])
        <= cutoff
    ]
    erased = uow.data_keys.erased(claim_subject(c) for c in due)
    claim_ids = [c for c in due if claim_subject(c) not in erased]
    return Erasure(RETENTION, subjects=[claim_subject(c) for c in claim_ids], claim_ids=claim_ids)


def carry_out(
    ledger: Ledger, uow: UnitOfWork, erasure: Erasure, principal: Principal | None
) -> Erasure:
    """Erase in this unit of work: seal legacy plaintext, destroy the keys, scrub the views,
    delete the claims' receipts, record the event(s)."""
    now = ledger.clock()
    erasure.already_erased = sorted(uow.data_keys.erased(erasure.subjects))
    todo = [s for s in erasure.subjects if s not in erasure.already_erased]
    if not todo:
        return erasure
    erasure.legacy_events_sealed = _seal_legacy(uow, todo, now)
    uow.data_keys.destroy(todo, erasure.reason, now)
    if erasure.person_id is not None and person_subject(erasure.person_id) in todo:
        _scrub_person(uow.connection, erasure.person_id, now)
    todo_claims = [c for c in erasure.claim_ids if claim_subject(c) in todo]
    _scrub_claim_facts(uow.connection, todo_claims)
    for claim_id in todo_claims:
        # The receipts' bytes go; their references (content hashes) stay in the history.
        erasure.receipts_erased += ledger.erase_receipts_of_claim(uow, claim_id)
    for start in range(0, len(todo), _SUBJECTS_PER_EVENT):
        erasure_id = str(uuid.uuid4())
        event = PersonalDataErased(
            erasure_id=erasure_id,
            subjects=tuple(todo[start : start + _SUBJECTS_PER_EVENT]),
            reason=erasure.reason,
            erased_on=ledger.today(),
        )
        ledger._append(
            uow, principal, stream("erasure", erasure_id), 0, [event], _ERASURE_PARTITION
        )
        erasure.erasure_ids.append(erasure_id)
    return erasure


def erase_person(
    ledger: Ledger, principal: Principal | None, id_or_email: str, *, dry_run: bool = False
) -> Erasure:
    """Erase one person's personal data (an operator's decision, or the CLI's)."""
    if principal is not None and not principal.is_operator:
        raise Forbidden("only an operator may erase personal data")
    with ledger.store.unit_of_work() as uow:
        erasure = plan_person_erasure(uow, id_or_email)
        if dry_run:
            erasure.dry_run = True
            erasure.already_erased = sorted(uow.data_keys.erased(erasure.subjects))
            return erasure
        return carry_out(ledger, uow, erasure, principal)


def apply_retention(ledger: Ledger, days: int, *, dry_run: bool = False) -> Erasure:
    """Erase the personal fields of claims closed `days` or more ago."""
    if days < 1:
        raise ValueError("the retention period is a positive number of days")
    with ledger.store.unit_of_work() as uow:
        erasure = plan_retention(uow, ledger.today(), days)
        if dry_run:
            erasure.dry_run = True
            return erasure
        return carry_out(ledger, uow, erasure, None)


def seal_legacy(ledger: Ledger, *, dry_run: bool = False) -> dict[str, int]:
    """Seal every personal field the store holds in the clear (events written before sealing
    existed), each under its subject's key: one transaction, the writer lock held throughout.
    Run once after migration 0006, before republishing the store to a fresh topic."""
    with ledger.store.unit_of_work() as uow:
        rows = uow.connection.execute(
            select(events.c.type, events.c.data).where(
                events.c.type.in_(list(personal.PERSONAL_FIELDS))
            )
        ).all()
        subjects = {
            subject
            for row in rows
            if not all(personal.is_sealed(v) for v in personal.personal_values(row.type, row.data))
            and (subject := personal.subject_of(row.type, row.data)) is not None
        }
        if dry_run:
            return {"subjects": len(subjects), "events_sealed": 0}
        erased = uow.data_keys.erased(subjects)
        live = sorted(subjects - erased)
        sealed = _seal_legacy(uow, live, ledger.clock())
        return {"subjects": len(live), "events_sealed": sealed}


def _seal_legacy(uow: UnitOfWork, subjects: Iterable[str], now: datetime) -> int:
    """Seal, under its subject's key, each personal field stored in the clear before sealing
    existed; the number of events rewritten."""
    streams = {f"{s.partition(':')[0]}-{s.partition(':')[2]}": s for s in subjects}
    rows = uow.connection.execute(
        select(events.c.global_position, events.c.type, events.c.data).where(
            events.c.stream_id.in_(list(streams))
        )
    ).all()
    sealed = 0
    for row in rows:
        values = list(personal.personal_values(row.type, row.data))
        if all(personal.is_sealed(v) for v in values):
            continue
        subject = personal.subject_of(row.type, row.data)
        assert subject is not None
        key = uow.data_keys.for_sealing(subject, now)
        uow.connection.execute(
            update(events)
            .where(events.c.global_position == row.global_position)
            .values(data=personal.seal_legacy_data(row.type, row.data, key))
        )
        sealed += 1
    return sealed


def _scrub_person(connection: Connection, person_id: str, now: datetime) -> None:
    """The people view's clear copy: no name, no address, no password, no live token; no
    link to their identity at the IdP, no network address in their sign-ins (the dates and
    methods stay)."""
    connection.execute(idp_links.delete().where(idp_links.c.person_id == person_id))
    connection.execute(
        update(sign_ins).where(sign_ins.c.person_id == person_id).values(address=None)
    )
    connection.execute(
        update(people)
        .where(people.c.id == person_id)
        .values(name=ERASED, email=f"erased-{person_id}@erased.invalid", password_hash=None)
    )
    connection.execute(
        update(api_tokens)
        .where(api_tokens.c.person_id == person_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def _scrub_claim_facts(connection: Connection, claim_ids: list[str]) -> None:
    """Texts in the claims view's facts (sealed ones read "erased" anyway; legacy ones not)."""
    for claim_id in claim_ids:
        facts = connection.execute(select(claims.c.facts).where(claims.c.id == claim_id)).scalar()
        if not facts:
            continue
        scrubbed = [
            {**f, "text": ERASED} if f.get("kind") in _TEXT_FACTS and "text" in f else f
            for f in facts
        ]
        connection.execute(update(claims).where(claims.c.id == claim_id).values(facts=scrubbed))


# ---- subject access ------------------------------------------------------------------------


def _plain_rows(connection: Connection, query: Any) -> list[dict[str, Any]]:
    return [
        {k: v.isoformat() if isinstance(v, datetime | date) else v for k, v in r._mapping.items()}
        for r in connection.execute(query)
    ]


def export_person(
    ledger: Ledger, id_or_email: str, *, alerts_sent: Mapping[str, Any] | None = None
) -> dict[str, Any] | None:
    """Everything the ledger holds about one person, as JSON (None: no such person)."""
    with ledger.reading() as uow:
        connection = uow.connection
        row = find_person(connection, id_or_email)
        if row is None:
            return None
        organisation = connection.execute(
            select(organisations.c.id, organisations.c.name, organisations.c.kind).where(
                organisations.c.id == row.organisation_id
            )
        ).one()
        added = uow.data_keys.open(uow.read_stream(stream("person", row.id)))
        name = added[0].data["name"] if added else row.name
        email = added[0].data["email"] if added else row.email
        claim_ids = claims_of_person(uow, row.id, name, email)
        acted = connection.execute(
            select(
                events.c.global_position,
                events.c.type,
                events.c.stream_id,
                events.c.occurred_at,
            )
            .where(events.c.actor == row.id)
            .order_by(events.c.global_position)
        ).all()
        key_rows = connection.execute(
            select(data_keys.c.subject, data_keys.c.erased_at, data_keys.c.erased_reason).where(
                data_keys.c.subject.in_(
                    [person_subject(row.id), *(claim_subject(c) for c in claim_ids)]
                ),
                data_keys.c.erased_at.is_not(None),
            )
        ).all()
        tokens = connection.execute(
            select(api_tokens.c.created_at, api_tokens.c.revoked_at)
            .where(api_tokens.c.person_id == row.id)
            .order_by(api_tokens.c.created_at)
        ).all()
        document: dict[str, Any] = {
            "person": {
                "id": row.id,
                "name": row.name,
                "email": row.email,
                "roles": list(row.roles),
                "has_password": row.password_hash is not None,
            },
            "organisation": dict(organisation._mapping),
            "claims": [
                {"id": claim_id, "history": claim_history(connection, claim_id)}
                for claim_id in claim_ids
            ],
            "actions": [
                {
                    "global_position": a.global_position,
                    "type": a.type,
                    "stream_id": a.stream_id,
                    "occurred_at": a.occurred_at.isoformat(),
                }
                for a in acted
            ],
            "api_tokens": [
                {
                    "created_at": t.created_at.isoformat(),
                    "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
                }
                for t in tokens
            ],
            "erased": [
                {
                    "subject": k.subject,
                    "erased_at": k.erased_at.isoformat(),
                    "reason": k.erased_reason,
                }
                for k in key_rows
            ],
            "sign_ins": _plain_rows(
                connection,
                select(sign_ins.c.at, sign_ins.c.method, sign_ins.c.issuer, sign_ins.c.address)
                .where(sign_ins.c.person_id == row.id)
                .order_by(sign_ins.c.at),
            ),
            "identity_provider_link": _plain_rows(
                connection,
                select(
                    idp_links.c.issuer,
                    idp_links.c.subject,
                    idp_links.c.roles,
                    idp_links.c.signed_in_at,
                ).where(idp_links.c.person_id == row.id),
            ),
            # What they looked at or exported, and who exported their data.
            "accesses_by_them": _plain_rows(
                connection,
                select(access_audit)
                .where(access_audit.c.actor == row.id)
                .order_by(access_audit.c.at),
            ),
            "exports_of_their_data": _plain_rows(
                connection,
                select(access_audit)
                .where(access_audit.c.resource == "person", access_audit.c.resource_id == row.id)
                .order_by(access_audit.c.at),
            ),
        }
        for section, rows_of in PERSON_EXPORT_SECTIONS.items():
            document[section] = rows_of(connection, row.id)
    document["alerts_sent"] = alerts_sent
    return document
