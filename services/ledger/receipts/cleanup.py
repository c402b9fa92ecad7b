"""Receipts uploaded and never attached to a claim: their bytes and their row are deleted once
they are older than a limit (`bridges receipts purge-unattached --older-than HOURS`).

A receipt is uploaded first and attached when its claim is submitted or amended (the form keeps
the upload while a person fills it in), so an upload can wait a while; one that no claim's
history names after the limit was abandoned (a form left, a file chosen by mistake) and is
personal data nobody needs. A receipt attached to any version of any claim is never touched
here: the claim's erasure (`Ledger.erase_receipts_of_claim`) is its only way out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Row, Text, cast, delete, exists, select, update

from shared.events.types import ClaimAmended, ClaimSubmitted

from ..store.tables import events
from ..store.views import receipts
from .storage import receipt_key

if TYPE_CHECKING:
    from ..application import Ledger

# The events that attach receipts (an expense line's `receipts`, by SHA-256).
_ATTACHING = (ClaimSubmitted.event_type, ClaimAmended.event_type)


@dataclass(frozen=True)
class Unattached:
    organisation_id: str
    sha256: str
    size_bytes: int
    uploaded_at: datetime

    def to_json(self) -> dict[str, object]:
        return {
            "organisation_id": self.organisation_id,
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "uploaded_at": self.uploaded_at.isoformat(),
        }


def purge_unattached(
    ledger: Ledger, older_than: timedelta, *, dry_run: bool = False
) -> list[Unattached]:
    """Delete every upload older than `older_than` that no claim ever carried (its bytes from
    the storage, then its row); with `dry_run`, only say which. Returns them, oldest first.

    No transaction is open while the storage deletes (a network call to S3): first a short
    unit of work marks the uploads erased, which no claim can attach any more; then the bytes
    go; then a second short one deletes the marked rows. An upload marked by a purge that
    failed half-way is found again by the next one (an unattached upload is only ever marked
    erased here)."""
    if older_than <= timedelta(0):
        raise ValueError("older_than must be positive: a receipt just uploaded may be attached yet")
    cutoff = ledger.clock() - older_than
    attached = exists().where(
        events.c.type.in_(_ATTACHING),
        cast(events.c.data, Text).contains(receipts.c.sha256),
    )
    abandoned = (receipts.c.uploaded_at < cutoff) & ~attached
    query = select(
        receipts.c.organisation_id, receipts.c.sha256, receipts.c.size_bytes, receipts.c.uploaded_at
    ).order_by(receipts.c.uploaded_at, receipts.c.organisation_id, receipts.c.sha256)
    if dry_run:
        with ledger.reading() as reading:
            return _unattached(reading.connection.execute(query.where(abandoned)))
    with ledger.store.unit_of_work() as uow:
        found = _unattached(uow.connection.execute(query.where(abandoned)))
        marked_at = ledger.clock()
        for receipt in found:
            uow.connection.execute(
                update(receipts)
                .where(_receipt(receipt), receipts.c.erased_at.is_(None))
                .values(erased_at=marked_at)
            )
    if not found:
        return found
    for receipt in found:
        ledger.receipt_storage.delete(receipt_key(receipt.organisation_id, receipt.sha256))
    with ledger.store.unit_of_work() as uow:
        for receipt in found:
            # Still marked and still old: not uploaded again meanwhile (that resets both).
            uow.connection.execute(
                delete(receipts).where(
                    _receipt(receipt), receipts.c.erased_at.is_not(None), abandoned
                )
            )
    return found


def _unattached(rows: Iterable[Row[Any]]) -> list[Unattached]:
    return [Unattached(r.organisation_id, r.sha256, r.size_bytes, r.uploaded_at) for r in rows]


def _receipt(receipt: Unattached) -> ColumnElement[bool]:
    return (receipts.c.organisation_id == receipt.organisation_id) & (
        receipts.c.sha256 == receipt.sha256
    )
