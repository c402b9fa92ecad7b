"""Issuing and reading e-invoices, through the ledger's normal command path: load what the
decision needs, ask the domain (`domain.invoice`) for the event, append it to the issuer's
invoice stream at its expected version (the number), update the invoices view — one unit of
work. Reads answer from the view and the event itself."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import and_, select

from shared.claim_position import APPROVED
from shared.events import catalogue
from shared.events.types import InvoiceIssued

from . import access
from .access import Principal
from .application import Ledger, _organisation, stream
from .domain.errors import ValidationFailed
from .domain.invoice import InvoiceDocument, invoice_document, issue_invoice, read_month
from .domain.organisation import Organisation
from .errors import Forbidden, NotFound
from .store.event_store import UnitOfWork, to_stored
from .store.tables import events
from .store.views import claims, invoice_claims, invoices, organisations

NOTHING_TO_INVOICE = (
    "there are no approved claims of yours to this payer, approved that month and not yet invoiced"
)


class Invoicing:
    """E-invoices of VCSE organisations to their payers."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    # ---- commands ----------------------------------------------------------------------

    def issue_for_claim(
        self, uow: UnitOfWork, principal: Principal, claim_id: str
    ) -> tuple[dict[str, Any], bool]:
        """The invoice for one approved claim; (invoice, True) when issued now, (invoice,
        False) when an invoice already covers the claim."""
        claim = self.ledger._visible_claim(uow, principal, claim_id)
        if not access.can_act_for_payee(principal, claim.payee_id):
            raise Forbidden("only the VCSE organisation's people may invoice its claims")
        existing = uow.connection.execute(
            select(invoice_claims.c.invoice_id).where(invoice_claims.c.claim_id == claim_id)
        ).scalar()
        if existing is not None:
            return self._view(uow, existing), False
        event = issue_invoice(
            str(uuid.uuid4()),
            issuer=self._organisation(uow, claim.payee_id),
            payer=self._organisation(uow, claim.payer_id),
            claims=[claim],
            issued_invoices=uow.stream_version(stream("invoices", claim.payee_id)),
            by=principal.person_id,
            today=self.ledger.today(),
        )
        return self._append(uow, principal, event), True

    def issue_for_month(
        self, uow: UnitOfWork, principal: Principal, payer_id: str, month: str
    ) -> tuple[dict[str, Any], bool]:
        """The invoice for all of ``month``'s approved claims (by approval date) of the
        principal's organisation to ``payer_id`` that no invoice covers yet; asking again for
        the same month answers the same invoice."""
        if not principal.has_any(access.VCSE_ROLES):
            raise Forbidden("only a VCSE organisation's people may issue invoices")
        issuer_id = principal.organisation_id
        period, first, last = read_month(month)
        payer_row = uow.connection.execute(
            select(organisations).where(
                organisations.c.id == payer_id, organisations.c.kind == "statutory"
            )
        ).first()
        existing = uow.connection.execute(
            select(invoices.c.id).where(
                invoices.c.issuer_id == issuer_id,
                invoices.c.payer_id == payer_id,
                invoices.c.period == period,
            )
        ).scalar()
        if existing is not None:
            return self._view(uow, existing), False
        candidates = uow.connection.execute(
            select(claims.c.id)
            .outerjoin(invoice_claims, invoice_claims.c.claim_id == claims.c.id)
            .where(
                claims.c.payee_id == issuer_id,
                claims.c.payer_id == payer_id,
                claims.c.status.in_(sorted(APPROVED)),
                invoice_claims.c.claim_id.is_(None),
            )
            .order_by(claims.c.created_position)
        ).scalars()
        chosen = [
            claim
            for claim in self.ledger.load_claims(uow, list(candidates))
            if claim.approved_on is not None and first <= claim.approved_on <= last
        ]
        if payer_row is None or not chosen:  # one answer: no telling whose ids exist
            raise ValidationFailed.on("month", NOTHING_TO_INVOICE)
        event = issue_invoice(
            str(uuid.uuid4()),
            issuer=self._organisation(uow, issuer_id),
            payer=_organisation(payer_row),
            claims=chosen,
            issued_invoices=uow.stream_version(stream("invoices", issuer_id)),
            by=principal.person_id,
            today=self.ledger.today(),
            period=period,
        )
        return self._append(uow, principal, event), True

    def _append(
        self, uow: UnitOfWork, principal: Principal, event: InvoiceIssued
    ) -> dict[str, Any]:
        self.ledger._append(
            uow,
            principal,
            stream("invoices", event.issuer_id),
            event.sequence - 1,
            [event],
            event.partnership_id,
        )
        return invoice_view(event)

    # ---- reads -------------------------------------------------------------------------

    def get(self, principal: Principal, invoice_id: str) -> dict[str, Any]:
        with self.ledger.reading() as uow:
            return invoice_view(self._visible(uow, principal, invoice_id))

    def document(self, principal: Principal, invoice_id: str) -> InvoiceDocument:
        """What the invoice shows (for its UBL and its PDF)."""
        with self.ledger.reading() as uow:
            event = self._visible(uow, principal, invoice_id)
            return invoice_document(
                event,
                self._organisation(uow, event.issuer_id),
                self._organisation(uow, event.payer_id),
                self.ledger.load_claims(uow, list(event.claim_ids)),
            )

    def for_claim(self, principal: Principal, claim_id: str) -> dict[str, Any] | None:
        """The invoice covering a claim the principal may see, if any."""
        with self.ledger.reading() as uow:
            invoice_id = uow.connection.execute(
                select(invoice_claims.c.invoice_id).where(invoice_claims.c.claim_id == claim_id)
            ).scalar()
            if invoice_id is None:
                return None
            event = self._event(uow, invoice_id)
            return invoice_view(event) if event and _may_read(principal, event) else None

    def between(self, principal: Principal, issuer_id: str, payer_id: str) -> list[dict[str, Any]]:
        """The invoices ``issuer_id`` issued to ``payer_id``, newest first (for one of the
        two organisations' people; nothing for anyone else)."""
        if not (
            access.can_act_for_payee(principal, issuer_id)
            or access.can_decide_for_payer(principal, payer_id)
        ):
            return []
        with self.ledger.reading() as uow:
            rows = uow.connection.execute(
                select(events)
                .join(invoices, invoices.c.global_position == events.c.global_position)
                .where(and_(invoices.c.issuer_id == issuer_id, invoices.c.payer_id == payer_id))
                .order_by(invoices.c.sequence.desc())
            ).all()
        return [invoice_view(_decode(row)) for row in rows]

    def _view(self, uow: UnitOfWork, invoice_id: str) -> dict[str, Any]:
        event = self._event(uow, invoice_id)
        assert event is not None  # the view row and its event commit together
        return invoice_view(event)

    def _visible(self, uow: UnitOfWork, principal: Principal, invoice_id: str) -> InvoiceIssued:
        event = self._event(uow, invoice_id)
        if event is None or not _may_read(principal, event):
            raise NotFound("invoice")
        return event

    @staticmethod
    def _event(uow: UnitOfWork, invoice_id: str) -> InvoiceIssued | None:
        row = uow.connection.execute(
            select(events)
            .join(invoices, invoices.c.global_position == events.c.global_position)
            # An id is a UUID: anything longer cannot be one (and is never looked up).
            .where(invoices.c.id == invoice_id[:36])
        ).first()
        return None if row is None else _decode(row)

    @staticmethod
    def _organisation(uow: UnitOfWork, organisation_id: str) -> Organisation:
        row = uow.connection.execute(
            select(organisations).where(organisations.c.id == organisation_id)
        ).first()
        if row is None:
            raise NotFound("organisation")
        return _organisation(row)


def _decode(row: Any) -> InvoiceIssued:
    event = catalogue.from_stored(to_stored(row))
    assert isinstance(event, InvoiceIssued)
    return event


def _may_read(principal: Principal, event: InvoiceIssued) -> bool:
    """The issuing VCSE organisation's people and the payer's approvers and finance."""
    return access.can_act_for_payee(principal, event.issuer_id) or access.can_decide_for_payer(
        principal, event.payer_id
    )


def invoice_view(event: InvoiceIssued) -> dict[str, Any]:
    return {
        "id": event.invoice_id,
        "number": event.number,
        "sequence": event.sequence,
        "issuer_id": event.issuer_id,
        "payer_id": event.payer_id,
        "partnership_id": event.partnership_id,
        "issued_on": event.issued_on,
        "due_on": event.due_on,
        "period": event.period,
        "claim_ids": list(event.claim_ids),
        "total_pence": event.total_pence,
        "paid_pence": event.paid_pence,
        "payable_pence": event.total_pence - event.paid_pence,
    }
