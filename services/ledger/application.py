"""The ledger's application service: each command loads what it decides on, asks the
domain for new events, appends them with the expected version and updates the read views,
all in one unit of work. Reads answer from the views and from the streams."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, Date, insert, literal, null, or_, select, union_all, update

from shared import clock as product_clock
from shared.calendar import london_date
from shared.claim_position import Fact, fact_from_json, position_as_at
from shared.events import catalogue
from shared.events.envelope import StoredEvent
from shared.events.personal import claim_subject
from shared.events.types import ApiTokensRevoked, ReceiptRef
from shared.ids import time_ordered_uuid
from shared.settings import LedgerSettings
from shared.tokens import hash_token, issue_token, token_key

from . import access, projections, queue
from .access import Principal
from .documents import agreement_view, claim_view, decode_cursor, encode_cursor, payment_view
from .domain.agreement import Agreement, sign_agreement
from .domain.balances import SUMMED, ClaimPosition, organisation_balance
from .domain.claim import Claim, submit_claim
from .domain.errors import ValidationFailed
from .domain.organisation import (
    Organisation,
    Person,
    add_person,
    choose_language,
    record_identifiers,
    register_organisation,
)
from .domain.partnership import Partnership, form_partnership
from .domain.payment import Payment, record_payment
from .errors import Forbidden, Gone, NotFound, StaleVersion, Unavailable
from .receipts.content import clean_receipt
from .receipts.storage import ReceiptStorage, receipt_key, storage_from_settings
from .store.event_store import EventStore, UnitOfWork, to_stored
from .store.idempotency import IdempotencyStore
from .store.tables import events
from .store.views import (
    allocations,
    api_tokens,
    claim_totals,
    claims,
    organisations,
    partnership_members,
    partnerships,
    people,
    receipts,
)

Clock = Callable[[], datetime]
_AGREEMENTS_KEPT = 4096


def utc_now() -> datetime:
    return product_clock.now()


def claim_lock(claim_id: object) -> str:
    """The lock name of a claim: held by every narrow command that writes its stream, its view
    row or a payment allocating to it (`UnitOfWork.lock`)."""
    return f"claim:{claim_id}"


def field_error(field: str, message: str) -> ValidationFailed:
    return ValidationFailed.on(field, message)


def stream(kind: str, entity_id: str) -> str:
    return f"{kind}-{entity_id}"


class Ledger:
    """Commands and queries of the ledger, independent of HTTP."""

    def __init__(
        self,
        store: EventStore,
        *,
        settings: LedgerSettings | None = None,
        clock: Clock | None = None,
        correlation_id: Callable[[], str | None] = lambda: None,
        appended: Callable[[Sequence[StoredEvent]], object] = lambda stored: None,
        receipt_storage: ReceiptStorage | None = None,
    ) -> None:
        self.store = store
        # Told of the events of each committed transaction (the events-appended metric).
        self.appended = appended
        # Who asked, for the events' correlation_id: the HTTP layer passes the request id.
        self.correlation_id = correlation_id
        self.settings = settings or LedgerSettings()
        self.clock: Clock = clock or utc_now
        self.idempotency = IdempotencyStore(store.engine)
        self.token_key = token_key(Path(self.settings.var_dir))
        self._receipt_storage = receipt_storage
        # Agreements replayed, by stream id: (stream version, agreement). See load_agreement.
        self._agreements: dict[str, tuple[int, Agreement]] = {}

    @property
    def receipt_storage(self) -> ReceiptStorage:
        """Where receipts' bytes live (made on first use: S3 needs no client until then)."""
        if self._receipt_storage is None:
            self._receipt_storage = storage_from_settings(self.settings)
        return self._receipt_storage

    # ---- plumbing -----------------------------------------------------------------------

    @contextmanager
    def reading(self) -> Iterator[UnitOfWork]:
        """A plain connection for reads: no writer lock, nothing to commit."""
        with self.store.engine.connect() as connection:
            yield UnitOfWork(connection)

    def today(self) -> date:
        return london_date(self.clock())

    def _append(
        self,
        uow: UnitOfWork,
        principal: Principal | None,
        stream_id: str,
        expected_version: int,
        events: Sequence[Any],
        partition_key: str,
    ) -> list[StoredEvent]:
        when = self.clock()
        stored = uow.append(
            stream_id,
            expected_version,
            # Personal fields are sealed before they are stored, so no plaintext copy of them
            # reaches the log, the outbox or the topic (shared/events/personal.py).
            [uow.data_keys.seal(catalogue.new_event(event), when) for event in events],
            partition_key=partition_key,
            actor=principal.person_id if principal else None,
            correlation_id=self.correlation_id(),
            occurred_at=when,
        )
        projections.project(uow.connection, stored, uow.data_keys)
        uow.after_commit(lambda: self.appended(stored))
        return stored

    @staticmethod
    def _decode(uow: UnitOfWork, stored: Sequence[StoredEvent]) -> list[Any]:
        return [catalogue.from_stored(e) for e in uow.data_keys.open(stored)]

    # ---- organisations, people, partnerships, agreements --------------------------------

    def register_organisation(
        self, uow: UnitOfWork, principal: Principal | None, data: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Register an organisation (an operator, or the installation itself when principal
        is None, as `bridges users create` does for the first operator)."""
        if principal is not None and not principal.is_operator:
            raise Forbidden("only an operator may register organisations")
        organisation_id = str(uuid.uuid4())
        event = register_organisation(
            organisation_id=organisation_id,
            name=data["name"],
            kind=data["kind"],
            charity_number=data.get("charity_number"),
            company_number=data.get("company_number"),
            contact_email=data.get("contact_email"),
            vat_number=data.get("vat_number"),
            peppol_id=data.get("peppol_id"),
        )
        self._append(
            uow, principal, stream("organisation", organisation_id), 0, [event], organisation_id
        )
        return {"id": organisation_id, **{k: getattr(event, k) for k in _ORG_FIELDS}}

    def record_identifiers(
        self,
        uow: UnitOfWork,
        principal: Principal,
        organisation_id: str,
        data: Mapping[str, Any],
    ) -> dict[str, Any]:
        """Record an organisation's identifiers (an operator, or the VCSE organisation's admin
        for its own); the ones not sent are kept as they were."""
        row = uow.connection.execute(
            select(organisations).where(organisations.c.id == organisation_id)
        ).first()
        if row is None or not (
            principal.is_operator or principal.organisation_id == organisation_id
        ):
            raise NotFound("organisation")
        if not access.can_manage_people(principal, organisation_id):
            raise Forbidden("only an operator or the organisation's VCSE admin may do this")
        current = _organisation(row)
        values = {name: data.get(name, getattr(current, name)) for name in projections.IDENTIFIERS}
        event = record_identifiers(current, **values)
        name = stream("organisation", organisation_id)
        self._append(uow, principal, name, uow.stream_version(name), [event], organisation_id)
        recorded = {k: getattr(event, k) for k in projections.IDENTIFIERS}
        return {"id": organisation_id, **{k: getattr(current, k) for k in _ORG_FIELDS}, **recorded}

    def add_person(
        self,
        uow: UnitOfWork,
        principal: Principal | None,
        organisation_id: str,
        data: Mapping[str, Any],
    ) -> dict[str, Any]:
        organisation = uow.connection.execute(
            select(organisations).where(organisations.c.id == organisation_id)
        ).first()
        if principal is not None:
            if organisation is None or not (
                principal.is_operator or principal.organisation_id == organisation_id
            ):
                raise NotFound("organisation")
            if not access.can_manage_people(principal, organisation_id):
                raise Forbidden("only an operator or the organisation's VCSE admin may add people")
            if "operator" in data["roles"] and not principal.is_operator:
                raise Forbidden("only an operator may grant the operator role")
        elif organisation is None:
            raise NotFound("organisation")
        email = data["email"].strip().lower()
        taken = uow.connection.execute(select(people.c.id).where(people.c.email == email)).first()
        if taken is not None:
            raise field_error("email", "a person with this email already exists")
        person_id = str(uuid.uuid4())
        event = add_person(
            person_id, _organisation(organisation), data["name"], email, list(data["roles"])
        )
        self._append(uow, principal, stream("person", person_id), 0, [event], organisation_id)
        return {
            "id": person_id,
            "organisation_id": organisation_id,
            "name": event.name,
            "email": event.email,
            "roles": list(event.roles),
        }

    def choose_language(
        self,
        uow: UnitOfWork,
        principal: Principal,
        organisation_id: str,
        person_id: str | None,
        data: Mapping[str, Any],
    ) -> dict[str, Any]:
        """Record the language of an organisation's, or a person's, emails and statements."""
        organisation = uow.connection.execute(
            select(organisations).where(organisations.c.id == organisation_id)
        ).first()
        visible = principal.is_operator or principal.organisation_id == organisation_id
        if organisation is None or not visible:
            raise NotFound("organisation")
        person = None
        if person_id is not None:
            row = uow.connection.execute(
                select(people).where(
                    (people.c.id == person_id) & (people.c.organisation_id == organisation_id)
                )
            ).first()
            if row is None:
                raise NotFound("person")
            person = Person(row.id, row.organisation_id, row.name, row.email, tuple(row.roles))
        if not access.can_choose_language(principal, organisation_id, person_id):
            raise Forbidden(
                "only the person, or the organisation's VCSE admin or finance officers, "
                "may choose this language"
            )
        event = choose_language(_organisation(organisation), person, data.get("language"))
        stream_id = stream("language", person_id or organisation_id)
        self._append(
            uow, principal, stream_id, uow.stream_version(stream_id), [event], organisation_id
        )
        return {
            "organisation_id": organisation_id,
            "person_id": person_id,
            "language": event.language,
        }

    def form_partnership(
        self, uow: UnitOfWork, principal: Principal, data: Mapping[str, Any]
    ) -> dict[str, Any]:
        if not principal.is_operator:
            raise Forbidden("only an operator may form partnerships")
        ids = list(data["organisation_ids"])
        known = self._organisations(uow, ids)
        partnership_id = str(uuid.uuid4())
        event = form_partnership(partnership_id, data["name"], ids, known)
        self._append(
            uow, principal, stream("partnership", partnership_id), 0, [event], partnership_id
        )
        return {
            "id": partnership_id,
            "name": event.name,
            "organisation_ids": list(event.organisation_ids),
        }

    def _organisations(self, uow: UnitOfWork, ids: Sequence[str]) -> dict[str, Organisation]:
        rows = uow.connection.execute(
            select(organisations).where(organisations.c.id.in_(list(ids)))
        ).all()
        return {row.id: _organisation(row) for row in rows}

    def _partnership_orgs(self, uow: UnitOfWork, partnership_id: str) -> dict[str, str] | None:
        exists = uow.connection.execute(
            select(partnerships.c.id).where(partnerships.c.id == partnership_id)
        ).first()
        if exists is None:
            return None
        rows = uow.connection.execute(
            select(organisations.c.id, organisations.c.kind)
            .select_from(
                partnership_members.join(
                    organisations, partnership_members.c.organisation_id == organisations.c.id
                )
            )
            .where(partnership_members.c.partnership_id == partnership_id)
        ).all()
        return {row.id: row.kind for row in rows}

    def sign_agreement(
        self,
        uow: UnitOfWork,
        principal: Principal,
        partnership_id: str,
        data: Mapping[str, Any],
    ) -> dict[str, Any]:
        members = self._partnership_orgs(uow, partnership_id)
        if members is None or not (principal.is_operator or principal.organisation_id in members):
            raise NotFound("partnership")
        if not (principal.is_operator or access.can_pay_for_payer(principal, data["payer_id"])):
            raise Forbidden("only an operator or the payer's finance officer may sign agreements")
        agreement_id = str(uuid.uuid4())
        partnership = Partnership(
            id=partnership_id,
            name=uow.connection.execute(
                select(partnerships.c.name).where(partnerships.c.id == partnership_id)
            ).scalar_one(),
            organisation_ids=tuple(members),
        )
        event = sign_agreement(
            agreement_id,
            partnership,
            organisations=self._organisations(uow, list(members)),
            payer_id=data["payer_id"],
            payee_id=data["payee_id"],
            nation=data["nation"],
            starts_on=data["starts_on"],
            ends_on=data["ends_on"],
            rates=data["rates"],
            budget_pence=data.get("budget_pence"),
            payment_terms_days=data.get("payment_terms_days", 30),
            approval_sla_working_days=data.get("approval_sla_working_days", 5),
            reminder_schedule=data.get("reminder_schedule"),
        )
        self._append(uow, principal, stream("agreement", agreement_id), 0, [event], partnership_id)
        return agreement_view(Agreement.replay([event]), version=1)

    def load_agreement(self, uow: UnitOfWork, agreement_id: str) -> Agreement | None:
        """The agreement as its stream stands in this transaction. Replayed agreements are kept
        by stream version: an agreement is immutable at a version (events are never changed
        and carry no personal data), so when the stream is still at the kept version only that
        version is read, not every event decoded again for each claim submitted under it."""
        stream_id = stream("agreement", agreement_id)
        kept = self._agreements.get(stream_id)
        if kept is not None and uow.stream_version(stream_id) == kept[0]:
            return kept[1]
        events = uow.read_stream(stream_id)
        if not events:
            return None
        agreement = Agreement.replay(self._decode(uow, events))
        if len(self._agreements) >= _AGREEMENTS_KEPT:
            self._agreements.clear()
        self._agreements[stream_id] = (events[-1].stream_version, agreement)
        return agreement

    def load_payment(self, uow: UnitOfWork, payment_id: str) -> Payment | None:
        events = uow.read_stream(stream("payment", payment_id))
        if not events:
            return None
        return Payment.replay(self._decode(uow, events))

    def issue_token(self, uow: UnitOfWork, person_id: str) -> str:
        """A new API token for a person; only its digest is stored, so show it once."""
        token = issue_token(person_id, self.token_key)
        uow.connection.execute(
            insert(api_tokens).values(
                token_hash=hash_token(token), person_id=person_id, created_at=self.clock()
            )
        )
        return token

    def announce_revoked_tokens(self, uow: UnitOfWork, digests: Sequence[str]) -> None:
        """Append `ApiTokensRevoked` (one per person) for tokens just revoked in `api_tokens`,
        in the same transaction: the relay publishes it and the notifier then refuses them too
        (it checks tokens by signature and knows nothing of the ledger's table)."""
        rows = uow.connection.execute(
            select(api_tokens.c.token_hash, people.c.id, people.c.organisation_id)
            .select_from(api_tokens.join(people, api_tokens.c.person_id == people.c.id))
            .where(api_tokens.c.token_hash.in_(list(digests)))
            .order_by(people.c.id, api_tokens.c.token_hash)
        ).all()
        by_person: dict[tuple[str, str], list[str]] = {}
        for row in rows:
            by_person.setdefault((row.id, row.organisation_id), []).append(row.token_hash)
        for (person_id, organisation_id), hashes in by_person.items():
            stream_id = stream("person", person_id)
            event = ApiTokensRevoked(person_id, organisation_id, tuple(hashes))
            self._append(
                uow, None, stream_id, uow.stream_version(stream_id), [event], organisation_id
            )

    def find_organisation(self, uow: UnitOfWork, id_or_name: str) -> Any:
        return uow.connection.execute(
            select(organisations).where(
                or_(organisations.c.id == id_or_name, organisations.c.name == id_or_name)
            )
        ).first()

    # ---- claims ----------------------------------------------------------------------------

    def _load_claim(self, uow: UnitOfWork, claim_id: str) -> Claim | None:
        return self._load_claim_map(uow, [claim_id]).get(claim_id)

    def _load_claim_map(self, uow: UnitOfWork, claim_ids: Sequence[str]) -> dict[str, Claim]:
        """Claims rebuilt from their streams and their payments' streams, read in ONE query
        whatever the number of claims (a page's worth at most)."""
        history = self._claim_histories(uow, claim_ids)
        return {claim_id: Claim.replay(events) for claim_id, events in history.items() if events}

    def _claim_histories(self, uow: UnitOfWork, claim_ids: Sequence[str]) -> dict[str, list[Any]]:
        """Each claim's events (decoded, its own and the payments allocating to it) in log
        order, in one query; a claim with no events gets an empty list."""
        ids = list(dict.fromkeys(claim_ids))
        if not ids:
            return {}
        streams = {stream("claim", claim_id): claim_id for claim_id in ids}
        payment_streams = select(literal("payment-") + allocations.c.payment_id).where(
            allocations.c.claim_id.in_(ids)
        )
        # Two arms, each an index walk on the stream id (a claim's stream is never a payment's,
        # so no event is in both): one WHERE with an OR over a subquery made PostgreSQL scan
        # the whole log for every claim read.
        both = union_all(
            select(events).where(events.c.stream_id.in_(list(streams))),
            select(events).where(events.c.stream_id.in_(payment_streams)),
        ).subquery()
        rows = uow.connection.execute(select(both).order_by(both.c.global_position)).all()
        history: dict[str, list[Any]] = {claim_id: [] for claim_id in ids}
        opened = uow.data_keys.open([to_stored(row) for row in rows])
        for row, stored in zip(rows, opened, strict=True):
            event: Any = catalogue.from_stored(stored)
            owner = streams.get(row.stream_id)
            if owner is not None:
                history[owner].append(event)
                continue
            for claim_id in dict.fromkeys(a.claim_id for a in event.allocations):
                if claim_id in history:
                    history[claim_id].append(event)
        return history

    def _visible_claim(self, uow: UnitOfWork, principal: Principal, claim_id: str) -> Claim:
        claim = self._load_claim(uow, claim_id)
        if claim is None or not self._can_see_claim(uow, principal, claim):
            raise NotFound("claim")
        return claim

    def _can_see_claim(self, uow: UnitOfWork, principal: Principal, claim: Claim) -> bool:
        in_partnership = (
            uow.connection.execute(
                select(partnership_members.c.organisation_id).where(
                    partnership_members.c.partnership_id == claim.partnership_id,
                    partnership_members.c.organisation_id == principal.organisation_id,
                )
            ).first()
            is not None
        )
        return access.can_see_claim(
            principal,
            payer_id=claim.payer_id,
            payee_id=claim.payee_id,
            in_partnership=in_partnership,
        )

    def submit_claim(
        self, uow: UnitOfWork, principal: Principal, data: Mapping[str, Any]
    ) -> dict[str, Any]:
        if not principal.roles & {"vcse_member", "vcse_admin"}:
            # A role that never submits is refused as such, whatever the body names (S3).
            raise Forbidden("only the VCSE organisation's own people may submit its claims")
        # Time-ordered: within a day of its payer's queue a claim goes after those made before
        # it, and its place counts only the few made after it (`queue.places_in_queue`).
        claim_id = str(time_ordered_uuid())
        # A new stream: nothing else writes it. What it reads (the agreement, the receipts)
        # changes only under the exclusive writers' lock, which waits for this one.
        uow.lock(claim_lock(claim_id))
        agreement = self.load_agreement(uow, data["agreement_id"])
        if agreement is None or not (
            access.can_act_for_payee(principal, agreement.payee_id)
            or access.can_decide_for_payer(principal, agreement.payer_id)
        ):
            raise field_error("agreement_id", "no agreement with this id")
        if not access.can_act_for_payee(principal, agreement.payee_id):
            raise Forbidden("only the VCSE organisation's own people may submit its claims")
        event = submit_claim(
            claim_id,
            agreement,
            data["lines"],
            data.get("expenses", []),
            submitted_by=principal.person_id,
            today=self.today(),
            receipts=self.uploaded_receipts(uow, agreement.payee_id, data.get("expenses")),
        )
        # The claim's id was made up just now: its data key is new, no need to look for it.
        uow.data_keys.new_subjects([claim_subject(claim_id)])
        self._append(
            uow, principal, stream("claim", claim_id), 0, [event], agreement.partnership_id
        )
        claim = Claim.replay([event])
        return self.claim_views(uow, [claim], nations={agreement.id: agreement.nation})[0]

    def claim_command(
        self,
        uow: UnitOfWork,
        principal: Principal,
        claim_id: str,
        if_match: int | None,
        action: str,
        data: Mapping[str, Any],
    ) -> dict[str, Any]:
        """amend | query | answer | approve | reject | withdraw, with the expected version
        (None: whatever version is current, If-Match: *; the store still refuses a change
        that races another)."""
        uow.lock(claim_lock(claim_id))  # the claim's stream and view row are ours till commit
        claim = self._visible_claim(uow, principal, claim_id)
        if action in ("amend", "answer", "withdraw"):
            if not access.can_act_for_payee(principal, claim.payee_id):
                raise Forbidden(f"only the VCSE organisation's people may {action} this claim")
        elif not access.can_decide_for_payer(principal, claim.payer_id):
            raise Forbidden(f"only the payer's approvers or finance may {action} this claim")
        if if_match is not None and if_match != claim.version:
            raise StaleVersion(claim.version, if_match)
        today = self.today()
        by = principal.person_id
        event: Any
        if action == "amend":
            agreement = self.load_agreement(uow, claim.agreement_id)
            assert agreement is not None
            event = claim.amend(
                data["lines"],
                data.get("expenses", []),
                agreement=agreement,
                by=by,
                today=today,
                receipts=self.uploaded_receipts(uow, claim.payee_id, data.get("expenses")),
            )
        elif action == "query":
            event = claim.query(data["question"], by=by, today=today)
        elif action == "answer":
            event = claim.answer(data["answer"], by=by, today=today)
        elif action == "approve":
            event = claim.approve(
                by=by, today=today, amount_pence=data.get("amount_pence"), reason=data.get("reason")
            )
        elif action == "reject":
            event = claim.reject(data["reason"], by=by, today=today)
        elif action == "withdraw":
            event = claim.withdraw(by=by, today=today)
        else:  # pragma: no cover - routes only pass the actions above
            raise ValueError(action)
        self._append(
            uow, principal, stream("claim", claim_id), claim.version, [event], claim.partnership_id
        )
        updated = self._load_claim(uow, claim_id)
        assert updated is not None
        return self.claim_views(uow, [updated])[0]

    # ---- receipts --------------------------------------------------------------------------

    def upload_receipt(
        self, uow: UnitOfWork, principal: Principal, content: bytes
    ) -> dict[str, Any]:
        """Keep a receipt for the principal's VCSE organisation: sniffed, metadata stripped,
        stored under its content hash. The same file twice is one receipt (same id)."""
        if not access.can_act_for_payee(principal, principal.organisation_id):
            raise Forbidden("only a VCSE organisation's people may upload receipts")
        clean = clean_receipt(content, max_bytes=self.settings.receipt_max_bytes)
        organisation_id = principal.organisation_id
        key = receipt_key(organisation_id, clean.sha256)
        self.receipt_storage.put(key, clean.content, clean.media_type)
        row = {
            "media_type": clean.media_type,
            "size_bytes": clean.size_bytes,
            "uploaded_by": principal.person_id,
            "uploaded_at": self.clock(),
            "erased_at": None,
        }
        where = (receipts.c.organisation_id == organisation_id) & (
            receipts.c.sha256 == clean.sha256
        )
        if uow.connection.execute(select(receipts.c.sha256).where(where)).first() is None:
            uow.connection.execute(
                insert(receipts).values(organisation_id=organisation_id, sha256=clean.sha256, **row)
            )
        else:
            uow.connection.execute(update(receipts).where(where).values(**row))
        return {
            "id": clean.sha256,
            "sha256": clean.sha256,
            "media_type": clean.media_type,
            "size_bytes": clean.size_bytes,
        }

    def uploaded_receipts(
        self, uow: UnitOfWork, organisation_id: str, expenses: object
    ) -> dict[str, ReceiptRef]:
        """The organisation's (not erased) uploads that the expenses name, by id."""
        wanted = {
            ref
            for expense in (expenses if isinstance(expenses, list) else [])
            if isinstance(expense, Mapping)
            for ref in (expense.get("receipts") or [])
            if isinstance(ref, str)
        }
        if not wanted:
            return {}
        rows = uow.connection.execute(
            select(receipts.c.sha256, receipts.c.media_type, receipts.c.size_bytes).where(
                receipts.c.organisation_id == organisation_id,
                receipts.c.sha256.in_(sorted(wanted)),
                receipts.c.erased_at.is_(None),
            )
        ).all()
        return {row.sha256: ReceiptRef(row.sha256, row.media_type, row.size_bytes) for row in rows}

    def claim_receipt(
        self, principal: Principal, claim_id: str, sha256: str
    ) -> tuple[ReceiptRef, bytes]:
        """One receipt of a claim the principal may see (any version of it carried it)."""
        with self.reading() as uow:
            claim = self._visible_claim(uow, principal, claim_id)
            ref = next((r for r in claim.receipts_in_history if r.sha256 == sha256), None)
            if ref is None:
                raise NotFound("receipt")
            erased = uow.connection.execute(
                select(receipts.c.erased_at).where(
                    receipts.c.organisation_id == claim.payee_id, receipts.c.sha256 == sha256
                )
            ).scalar_one_or_none()
        if erased:
            raise Gone("this receipt was erased; the claim's history keeps its content hash")
        content = self.receipt_storage.get(receipt_key(claim.payee_id, sha256))
        if content is None:
            raise Unavailable(
                "the receipt's file is not in this ledger's receipt storage "
                "(is every instance using the same BRIDGES_RECEIPTS_STORAGE?)"
            )
        return ref, content

    def erase_receipts_of_claim(self, uow: UnitOfWork, claim_id: str) -> list[str]:
        """Delete the stored bytes of every receipt the claim ever carried; the references
        (content hashes) stay in its history. Returns the hashes erased. Receipts are
        personal data: the erasure of a person's data calls this for each of their claims.
        The same file attached to another claim of the organisation is erased there too
        (one file, one set of bytes)."""
        claim = self._load_claim(uow, claim_id)
        if claim is None:
            raise NotFound("claim")
        erased = []
        for ref in claim.receipts_in_history:
            self.receipt_storage.delete(receipt_key(claim.payee_id, ref.sha256))
            uow.connection.execute(
                update(receipts)
                .where(
                    receipts.c.organisation_id == claim.payee_id,
                    receipts.c.sha256 == ref.sha256,
                    receipts.c.erased_at.is_(None),
                )
                .values(erased_at=self.clock())
            )
            erased.append(ref.sha256)
        return erased

    # ---- payments --------------------------------------------------------------------------

    def record_payment(
        self, uow: UnitOfWork, principal: Principal, data: Mapping[str, Any]
    ) -> dict[str, Any]:
        if "finance" not in principal.roles:
            # A role that never pays is refused as such, whatever the body names (S3).
            raise Forbidden("only the payer's finance officers may record payments")
        if not access.can_pay_for_payer(principal, data["payer_id"]):
            if principal.organisation_id != data["payer_id"]:
                raise field_error(
                    "payer_id", "you may only record payments made by your own organisation"
                )
            raise Forbidden("only the payer's finance officers may record payments")
        payment_id = str(uuid.uuid4())
        # Every claim it allocates to is locked before their outstanding amounts are read, so
        # two payments (or a payment and a decision) on one claim never both see it unpaid.
        uow.lock(
            f"payment:{payment_id}", *(claim_lock(a.get("claim_id")) for a in data["allocations"])
        )
        claims: dict[str, Claim] = {}
        for allocation in data["allocations"]:
            claim = self._load_claim(uow, allocation["claim_id"])
            if claim is not None and self._can_see_claim(uow, principal, claim):
                claims[claim.id] = claim
        event = record_payment(
            payment_id,
            payer_id=data["payer_id"],
            payee_id=data["payee_id"],
            paid_on=data["paid_on"],
            reference=data["reference"],
            allocations=data["allocations"],
            claims=claims,
            recorded_by=principal.person_id,
            today=self.today(),
        )
        self._append(
            uow, principal, stream("payment", payment_id), 0, [event], event.partnership_id
        )
        return payment_view(Payment.replay([event]))

    def reverse_payment(
        self,
        uow: UnitOfWork,
        principal: Principal,
        payment_id: str,
        data: Mapping[str, Any],
    ) -> dict[str, Any]:
        payment = self.load_payment(uow, payment_id)
        if payment is None or principal.organisation_id not in (payment.payer_id, payment.payee_id):
            raise NotFound("payment")
        if not access.can_pay_for_payer(principal, payment.payer_id):
            raise Forbidden("only the payer's finance officers may reverse payments")
        event = payment.reverse(reason=data["reason"], by=principal.person_id, today=self.today())
        self._append(
            uow,
            principal,
            stream("payment", payment_id),
            payment.version,
            [event],
            payment.partnership_id,
        )
        return payment_view(payment.apply(event))

    # ---- reads -----------------------------------------------------------------------------

    def get_claim(self, principal: Principal, claim_id: str) -> dict[str, Any]:
        with self.reading() as uow:
            claim = self._visible_claim(uow, principal, claim_id)
            return self.claim_views(uow, [claim])[0]

    def claim_history(self, principal: Principal, claim_id: str) -> list[StoredEvent]:
        with self.reading() as uow:
            self._visible_claim(uow, principal, claim_id)
            claim_events = uow.read_stream(stream("claim", claim_id))
            payment_ids = uow.connection.execute(
                select(allocations.c.payment_id).where(allocations.c.claim_id == claim_id)
            ).scalars()
            found = uow.read_streams(stream("payment", p) for p in payment_ids)
            opened = uow.data_keys.open([*claim_events, *found])
        return sorted(opened, key=lambda e: e.global_position)

    def load_claims(self, uow: UnitOfWork, claim_ids: Sequence[str]) -> list[Claim]:
        """The claims that exist among `claim_ids`, in that order (one query)."""
        found = self._load_claim_map(uow, claim_ids)
        return [found[claim_id] for claim_id in claim_ids if claim_id in found]

    def list_claims(self, principal: Principal, args: Mapping[str, Any]) -> dict[str, Any]:
        """The claims the principal may see, newest first, one page at a time."""
        visible = []
        if principal.has_any(access.VCSE_ROLES):
            visible.append(claims.c.payee_id == principal.organisation_id)
        if principal.has_any(access.APPROVING_ROLES):
            visible.append(claims.c.payer_id == principal.organisation_id)
        partner_viewer = "partner_viewer" in principal.roles
        if not visible and not partner_viewer:
            raise Forbidden("your roles do not give access to claims")
        limit = min(int(args.get("limit", 50)), self.settings.max_page_size)
        filters = [claims.c[name] == args[name] for name in FILTERS if args.get(name)]
        if args.get("cursor"):
            filters.append(claims.c.created_position < decode_cursor(args["cursor"]))
        with self.reading() as uow:
            arms = list(visible)
            if partner_viewer:
                # One arm per partnership, each walking (partnership_id, created_position):
                # a page never sorts the partnership's claims.
                arms.extend(
                    claims.c.partnership_id == partnership_id
                    for partnership_id in uow.connection.execute(
                        select(partnership_members.c.partnership_id).where(
                            partnership_members.c.organisation_id == principal.organisation_id
                        )
                    ).scalars()
                )
            rows = self._newest_claims(uow, arms, filters, limit + 1)
            page = rows[:limit]
            loaded = self.load_claims(uow, [row.id for row in page])
            items = self.claim_views(uow, loaded)
        next_cursor = encode_cursor(page[-1].created_position) if len(rows) > limit else None
        return {"items": items, "next_cursor": next_cursor}

    def claim_views(
        self,
        uow: UnitOfWork,
        loaded: Sequence[Claim],
        *,
        nations: Mapping[str, str | None] | None = None,
    ) -> list[dict[str, Any]]:
        """The claims as the API and pages show them, each with its `queue` standing today
        (place in the payer's approval queue, working days left to approve, days left to
        pay: `queue.py`), in two queries whatever the number of claims (one when the caller
        already holds the agreements' `nations`)."""
        today = self.today()
        places = queue.places_in_queue(uow.connection, [c.id for c in loaded])
        if nations is None or any(c.agreement_id not in nations for c in loaded):
            nations = queue.nations_of(uow.connection, [c.agreement_id for c in loaded])
        views = []
        for claim in loaded:
            view = claim_view(claim, today)
            position = claim.position_as_at(today)
            view["queue"] = queue.standing(
                position, today, nations.get(claim.agreement_id), places.get(claim.id)
            ).to_json()
            views.append(view)
        return views

    @staticmethod
    def _newest_claims(
        uow: UnitOfWork, arms: Sequence[Any], filters: Sequence[Any], limit: int
    ) -> list[Any]:
        """The newest `limit` claims matching any arm and every filter, in one query: each arm
        a keyset walk down its own index, merged here (a claim may match several arms)."""
        if not arms:
            return []
        selects = []
        for number, arm in enumerate(arms):
            walk = (
                select(claims.c.id, claims.c.created_position)
                .where(arm, *filters)
                .order_by(claims.c.created_position.desc())
                .limit(limit)
                .subquery(f"arm{number}")
            )
            selects.append(select(walk.c.id, walk.c.created_position))
        query = selects[0] if len(selects) == 1 else union_all(*selects)
        merged = {row.id: row for row in uow.connection.execute(query)}
        return sorted(merged.values(), key=lambda row: row.created_position, reverse=True)[:limit]

    def balances(
        self, principal: Principal, partnership_id: str, as_at: date | None
    ) -> dict[str, Any]:
        """Per VCSE organisation: claimed, approved, paid, outstanding, overdue and aging,
        as known on `as_at` (default today)."""
        as_at = as_at or self.today()
        with self.reading() as uow:
            members = self._partnership_orgs(uow, partnership_id)
            if members is None or principal.organisation_id not in members:
                raise NotFound("partnership")
            scope, organisation_id = access.balance_scope(principal)
            if scope == "none":
                raise Forbidden("your roles do not give access to balances")
            scoped = [claims.c.partnership_id == partnership_id]
            in_totals = [claim_totals.c.partnership_id == partnership_id]
            if scope == "payee":
                scoped.append(claims.c.payee_id == organisation_id)
                in_totals.append(claim_totals.c.payee_id == organisation_id)
            elif scope == "payer":
                scoped.append(claims.c.payer_id == organisation_id)
                in_totals.append(claim_totals.c.payer_id == organisation_id)
            # Settled claims (nothing open, figures fixed from their last fact on) are summed
            # per agreement in `claim_totals`; only the claims open now, or settled after
            # `as_at`, are evaluated one by one: a bounded few whatever the history, when
            # asked as at today. One statement for both, so both are read from one snapshot
            # (a claim settling meanwhile is neither counted twice nor missed).
            claim_columns = (
                claims.c.id,
                claims.c.partnership_id,
                claims.c.payer_id,
                claims.c.payee_id,
                claims.c.submitted_on,
                claims.c.approval_due,
                claims.c.base_payment_due,
                claims.c.facts,
                claims.c.settled_on,
            )
            no_sums = [null().cast(BigInteger).label(name) for name in SUMMED]
            totals_row = [
                claim_totals.c.agreement_id.label("id"),
                claim_totals.c.partnership_id,
                claim_totals.c.payer_id,
                claim_totals.c.payee_id,
                *(null().cast(Date).label(c.name) for c in claim_columns[4:7]),
                null().cast(claims.c.facts.type).label("facts"),
                null().cast(Date).label("settled_on"),
                *(claim_totals.c[name] for name in SUMMED),
            ]
            rows_read = uow.connection.execute(
                union_all(
                    select(literal("claim").label("kind"), *claim_columns, *no_sums).where(
                        *scoped, claims.c.settled_on.is_(None)
                    ),
                    select(literal("claim").label("kind"), *claim_columns, *no_sums).where(
                        *scoped, claims.c.settled_on > as_at
                    ),
                    select(literal("totals").label("kind"), *totals_row).where(*in_totals),
                )
            ).all()
            claim_rows = [row for row in rows_read if row.kind == "claim"]
            totals_rows = [row for row in rows_read if row.kind == "totals"]
            names = dict(
                uow.connection.execute(
                    select(organisations.c.id, organisations.c.name).where(
                        organisations.c.id.in_(list(members))
                    )
                ).all()
            )
        payees = sorted(
            {
                org_id
                for org_id, kind in members.items()
                if kind == "vcse" and (scope != "payee" or org_id == organisation_id)
            }
        )
        fixed: dict[str, dict[str, int]] = {payee_id: {} for payee_id in payees}
        for totals in totals_rows:
            if totals.payee_id in fixed:
                sums = fixed[totals.payee_id]
                for name in SUMMED:
                    sums[name] = sums.get(name, 0) + totals._mapping[name]
        by_payee: dict[str, list[ClaimPosition]] = {payee_id: [] for payee_id in payees}
        taken_out: dict[str, list[ClaimPosition]] = {payee_id: [] for payee_id in payees}
        for row in claim_rows:
            if row.payee_id not in by_payee:
                continue
            terms, facts = projections.claim_terms(row), _row_facts(row)
            if row.settled_on is not None:
                # Counted in the totals as it stands from `settled_on`; not yet so on `as_at`.
                settled = position_as_at(terms, facts, row.settled_on)
                assert settled is not None
                taken_out[row.payee_id].append(settled)
            position = position_as_at(terms, facts, as_at)
            if position is not None:
                by_payee[row.payee_id].append(position)
        rows = [
            {
                "organisation_id": payee_id,
                "organisation_name": names.get(payee_id, ""),
                **organisation_balance(
                    by_payee[payee_id],
                    fixed=fixed[payee_id],
                    not_fixed_since=taken_out[payee_id],
                ),
            }
            for payee_id in payees
        ]
        return {"partnership_id": partnership_id, "as_at": as_at, "organisations": rows}


FILTERS = ("status", "agreement_id", "partnership_id")
_ORG_FIELDS = (
    "name",
    "kind",
    "charity_number",
    "company_number",
    "contact_email",
    "vat_number",
    "peppol_id",
)


def _row_facts(row: Any) -> tuple[Fact, ...]:
    """A claim's dated facts from its view row, in the order recorded."""
    return tuple(fact_from_json(data) for data in row.facts)


def _organisation(row: Any) -> Organisation:
    return Organisation(
        id=row.id,
        name=row.name,
        kind=row.kind,
        charity_number=row.charity_number,
        company_number=row.company_number,
        contact_email=row.contact_email,
        vat_number=row.vat_number,
        peppol_id=row.peppol_id,
    )
