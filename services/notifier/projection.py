"""Apply the ledger's events to the notifier's read model, inside the caller's transaction.

Idempotent by construction for replays: the consumer skips event ids it has processed, and
every write here is an upsert keyed by the entity, so rebuilding from the topic gives the
same rows as the live model.

A batch's writes are buffered and written by `flush()` with one statement per table (rows
keyed by their entity: a later upsert of the same row replaces the earlier one, which is what
running them in order would leave). A statement that is not a buffered upsert (an UPDATE of a
row, the erasure's scrub) flushes the buffer first, so every write lands in event order.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select, update

from shared.claim_position import fact_to_json
from shared.events.envelope import StoredEvent
from shared.events.personal import ERASED
from shared.events.types import (
    AgreementAmended,
    AgreementSigned,
    ApiTokensRevoked,
    ClaimAmended,
    ClaimApproved,
    ClaimQueried,
    ClaimQueryAnswered,
    ClaimRejected,
    ClaimSubmitted,
    ClaimWithdrawn,
    OrganisationRegistered,
    PartnershipFormed,
    PaymentRecorded,
    PaymentReversed,
    PersonAdded,
    PersonalDataErased,
    PreferredLanguageChosen,
)
from shared.sql import insert_for

from . import erasure
from .model import ClaimTimeline
from .store.read_model import timeline_from_row
from .store.tables import (
    agreements,
    claims,
    organisations,
    partnership_members,
    partnerships,
    payments,
    people,
    revoked_tokens,
)

CLAIM_EVENTS = (
    ClaimAmended,
    ClaimQueried,
    ClaimQueryAnswered,
    ClaimApproved,
    ClaimRejected,
    ClaimWithdrawn,
)
_CHUNK = 500


def _upsert_statement(connection: Connection, table: Any, key: str) -> Any:
    """INSERT … ON CONFLICT (key) DO UPDATE every other column, built once per table and run
    with parameters (building it with literal values costs more than the database work)."""
    cache = connection.info.setdefault("bridges.upserts", {})
    statement = cache.get(table.name)
    if statement is None:
        insert = insert_for(connection, table)
        statement = insert.on_conflict_do_update(
            index_elements=[key],
            set_={c.name: insert.excluded[c.name] for c in table.columns if c.name != key},
        )
        cache[table.name] = statement
    return statement


def _insert_new_statement(connection: Connection, table: Any) -> Any:
    """INSERT … ON CONFLICT DO NOTHING, built once per table."""
    cache = connection.info.setdefault("bridges.inserts", {})
    statement = cache.get(table.name)
    if statement is None:
        statement = insert_for(connection, table).on_conflict_do_nothing()
        cache[table.name] = statement
    return statement


# The tables written by upsert, with their key; and those whose rows are only ever added.
_UPSERTED = ((organisations, "id"), (people, "id"), (partnerships, "id"), (agreements, "id"))
_ADDED = (partnership_members, revoked_tokens)


def claim_ids_of(event: object) -> list[str]:
    """The claims an event may change (what `Projection.preload` wants to know)."""
    if isinstance(event, (ClaimSubmitted, *CLAIM_EVENTS)):
        return [event.claim_id]
    if isinstance(event, PaymentRecorded | PaymentReversed):
        return [a.claim_id for a in event.allocations]
    return []


class Projection:
    """Applies events inside one transaction. Changes stay in memory and are written by
    `flush()`, one statement per table (a batch often touches a claim several times)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._loaded: dict[str, tuple[ClaimTimeline, int] | None] = {}
        self._dirty: set[str] = set()
        # table name → entity key → the row to upsert; table name → rows to add if new.
        self._upserts: dict[str, dict[str, dict[str, Any]]] = {}
        self._additions: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}

    def preload(self, claim_ids: Iterable[str]) -> None:
        """Read the stored claims among these in one query per 500 (instead of one each)."""
        wanted = sorted({c for c in claim_ids if c not in self._loaded})
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            found = {
                row.id: (timeline_from_row(row), row.last_position)
                for row in self.connection.execute(select(claims).where(claims.c.id.in_(chunk)))
            }
            for claim_id in chunk:
                self._loaded[claim_id] = found.get(claim_id)

    def _upsert(self, table: Any, values: dict[str, Any]) -> None:
        row = {c.name: values.get(c.name) for c in table.columns}
        self._upserts.setdefault(table.name, {})[str(row["id"])] = row

    def _add(self, table: Any, row: dict[str, Any]) -> None:
        key = tuple(row[c.name] for c in table.primary_key.columns)
        self._additions.setdefault(table.name, {}).setdefault(key, row)

    def _execute_now(self, statement: Any) -> None:
        """A statement other than a buffered write: after everything buffered before it."""
        self.flush()
        self.connection.execute(statement)

    def apply(self, envelope: StoredEvent, event: object) -> list[str]:
        """Apply one event; the ids of the claims it changed (for the alert rules)."""
        connection = self.connection
        if isinstance(event, OrganisationRegistered):
            self._upsert(
                organisations,
                {
                    "id": event.organisation_id,
                    "name": event.name,
                    "kind": event.kind,
                    "contact_email": event.contact_email,
                },
            )
        elif isinstance(event, PersonAdded):
            self._upsert(
                people,
                {
                    "id": event.person_id,
                    "organisation_id": event.organisation_id,
                    "name": event.name,
                    "email": event.email,
                    # Erased (its key is gone, whichever partition brought the erasure first):
                    # no roles, so a token still signed for them opens nothing.
                    "roles": [] if event.email == ERASED else list(event.roles),
                },
            )
        elif isinstance(event, ApiTokensRevoked):
            for digest in event.token_digests:
                self._add(
                    revoked_tokens,
                    {
                        "token_digest": digest,
                        "person_id": event.person_id,
                        "revoked_at": envelope.occurred_at,
                    },
                )
        elif isinstance(event, PreferredLanguageChosen):
            table = organisations if event.person_id is None else people
            subject = event.person_id or event.organisation_id
            self._execute_now(
                update(table).where(table.c.id == subject).values(preferred_language=event.language)
            )
        elif isinstance(event, PartnershipFormed):
            self._upsert(
                partnerships,
                {
                    "id": event.partnership_id,
                    "name": event.name,
                    "organisation_ids": list(event.organisation_ids),
                },
            )
            for organisation_id in event.organisation_ids:
                self._add(
                    partnership_members,
                    {"partnership_id": event.partnership_id, "organisation_id": organisation_id},
                )
        elif isinstance(event, AgreementSigned):
            self._upsert(
                agreements,
                {
                    "id": event.agreement_id,
                    "partnership_id": event.partnership_id,
                    "payer_id": event.payer_id,
                    "payee_id": event.payee_id,
                    "nation": event.nation,
                    "starts_on": event.starts_on,
                    "ends_on": event.ends_on,
                    "budget_pence": event.budget_pence,
                    "payment_terms_days": event.payment_terms_days,
                    "approval_sla_working_days": event.approval_sla_working_days,
                    "reminder_schedule": list(event.reminder_schedule),
                },
            )
        elif isinstance(event, AgreementAmended):
            changes = {
                name: getattr(event, name)
                for name in (
                    "budget_pence",
                    "ends_on",
                    "payment_terms_days",
                    "approval_sla_working_days",
                )
                if getattr(event, name) is not None
            }
            if event.reminder_schedule is not None:
                changes["reminder_schedule"] = list(event.reminder_schedule)
            if changes:
                self._execute_now(
                    update(agreements)
                    .where(agreements.c.id == event.agreement_id)
                    .values(**changes)
                )
        elif isinstance(event, ClaimSubmitted):
            if self._claim(event.claim_id) is not None:
                return []  # a replay: the claim has moved on since
            self._keep(ClaimTimeline.submitted(event), envelope.global_position)
            return [event.claim_id]
        elif isinstance(event, CLAIM_EVENTS):
            return self._advance(envelope, event, [event.claim_id])
        elif isinstance(event, PaymentRecorded):
            self._upsert(
                payments,
                {
                    "id": event.payment_id,
                    "partnership_id": event.partnership_id,
                    "payer_id": event.payer_id,
                    "payee_id": event.payee_id,
                    "paid_on": event.paid_on,
                    "reference": event.reference,
                    "amount_pence": event.amount_pence,
                    "allocations": [
                        {"claim_id": a.claim_id, "amount_pence": a.amount_pence}
                        for a in event.allocations
                    ],
                    "reversed_on": None,
                    "reversal_reason": None,
                },
            )
            return self._advance(envelope, event, [a.claim_id for a in event.allocations])
        elif isinstance(event, PaymentReversed):
            self._execute_now(
                update(payments)
                .where(payments.c.id == event.payment_id)
                .values(reversed_on=event.reversed_on, reversal_reason=event.reason)
            )
            return self._advance(envelope, event, [a.claim_id for a in event.allocations])
        elif isinstance(event, PersonalDataErased):
            # Write what this batch changed first, scrub in SQL, forget the cached timelines.
            self.flush()
            erasure.scrub(connection, event.subjects)
            self._loaded.clear()
        return []

    def _claim(self, claim_id: str) -> tuple[ClaimTimeline, int] | None:
        if claim_id not in self._loaded:
            row = self.connection.execute(select(claims).where(claims.c.id == claim_id)).first()
            self._loaded[claim_id] = (
                None if row is None else (timeline_from_row(row), row.last_position)
            )
        return self._loaded[claim_id]

    def _keep(self, timeline: ClaimTimeline, position: int) -> None:
        self._loaded[timeline.claim_id] = (timeline, position)
        self._dirty.add(timeline.claim_id)

    def _advance(self, envelope: StoredEvent, event: object, claim_ids: list[str]) -> list[str]:
        changed = []
        for claim_id in dict.fromkeys(claim_ids):
            known = self._claim(claim_id)
            if known is None:
                # The claim's submission has not arrived (another partition, or a topic that
                # starts later than the ledger): nothing to attach the fact to.
                continue
            timeline, position = known
            if position >= envelope.global_position:
                continue  # already applied (a replay)
            self._keep(timeline.apply(event), envelope.global_position)
            changed.append(claim_id)
        return changed

    def written(self) -> dict[str, ClaimTimeline]:
        """After `flush`: the claims this projection holds, as their rows now read (loaded
        from them, or written from them; an erasure's scrub drops what it held before)."""
        assert not self._dirty, "flush first"
        return {claim_id: known[0] for claim_id, known in self._loaded.items() if known}

    def flush(self) -> None:
        """Write everything buffered since the last flush: one statement per table."""
        connection = self.connection
        for table, key in (*_UPSERTED, (payments, "id")):
            pending = self._upserts.pop(table.name, None)
            if pending:
                rows = [pending[k] for k in sorted(pending)]
                connection.execute(_upsert_statement(connection, table, key), rows)
        for table in _ADDED:
            added = self._additions.pop(table.name, None)
            if added:
                rows = [added[k] for k in sorted(added)]
                connection.execute(_insert_new_statement(connection, table), rows)
        rows = []
        for claim_id in sorted(self._dirty):
            known = self._loaded[claim_id]
            assert known is not None
            rows.append(claim_row(*known))
        self._dirty.clear()
        if rows:
            connection.execute(_upsert_statement(connection, claims, "id"), rows)


def apply_event(connection: Connection, envelope: StoredEvent, event: object) -> list[str]:
    """Apply one event and write it at once; the ids of the claims it changed."""
    projection = Projection(connection)
    changed = projection.apply(envelope, event)
    projection.flush()
    return changed


def claim_row(timeline: ClaimTimeline, position: int) -> dict[str, Any]:
    """The nf_claims row of a timeline whose last applied event is at `position`."""
    last_day = max(fact.on for fact in timeline.facts)
    state = timeline.state_as_at(last_day)
    assert state is not None
    return {
        "id": timeline.claim_id,
        "partnership_id": timeline.partnership_id,
        "agreement_id": timeline.agreement_id,
        "payer_id": timeline.payer_id,
        "payee_id": timeline.payee_id,
        "submitted_by": timeline.submitted_by,
        "submitted_on": timeline.submitted_on,
        "approval_due": timeline.approval_due,
        "base_payment_due": timeline.base_payment_due,
        "status": state.status,
        "claimed_pence": state.claimed_pence,
        "approved_pence": state.approved_pence,
        "paid_pence": state.paid_pence,
        "facts": [fact_to_json(f) for f in timeline.facts],
        "last_position": position,
    }
