"""Map every failure the ledger can meet onto a problem document."""

from __future__ import annotations

from shared.i18n import N_
from shared.problems import Problem, validation_problem

from ..domain.errors import DomainError, InvalidTransition, NotAllowed, ValidationFailed
from ..errors import Forbidden, Gone, NotFound, StaleVersion, Unavailable
from ..receipts.content import ReceiptRefused
from ..store.data_keys import SubjectErased
from ..store.event_store import ConcurrencyConflict, WriterBusy

RECEIPT_PROBLEMS = {
    413: ("receipt-too-large", N_("Receipt too large")),
    415: ("receipt-type-refused", N_("Not a receipt Bridges keeps")),
    422: ("receipt-unreadable", N_("The receipt cannot be read")),
}


def receipt_problem(error: ReceiptRefused) -> Problem:
    """413, 415 or 422, naming the `file` field and why (nothing was stored)."""
    slug, title = RECEIPT_PROBLEMS[error.status]
    return Problem(error.status, slug, title, str(error), errors={"file": [str(error)]})


def problem_from_domain(error: DomainError) -> Problem:
    if isinstance(error, ValidationFailed):
        return validation_problem(error.errors, error.message)
    if isinstance(error, InvalidTransition):
        return Problem(
            409, "invalid-transition", N_("Not possible in the claim's state"), error.message
        )
    if isinstance(error, NotAllowed):
        return Problem(403, "not-allowed", N_("Not allowed"), error.message)
    return Problem(422, "rejected", N_("The request was refused"), error.message)


def problem_for(error: Exception) -> Problem | None:
    """The problem document for an error the application raises, or None if unexpected."""
    if isinstance(error, Problem):
        return error
    if isinstance(error, DomainError):
        return problem_from_domain(error)
    if isinstance(error, NotFound):
        return Problem(404, "not-found", N_("Not found"), str(error))
    if isinstance(error, Forbidden):
        return Problem(403, "forbidden", N_("Forbidden"), str(error))
    if isinstance(error, ReceiptRefused):
        return receipt_problem(error)
    if isinstance(error, Gone):
        return Problem(410, "gone", N_("Gone"), str(error))
    if isinstance(error, Unavailable):
        return Problem(503, "unavailable", N_("Not available"), str(error))
    if isinstance(error, WriterBusy):  # a lock not granted in time: retryable
        return Problem(
            503,
            "busy",
            N_("Not available right now"),
            N_("the ledger is busy with other changes; retry shortly"),
            headers={"Retry-After": "1"},
        )
    if isinstance(error, StaleVersion):
        return Problem(
            412,
            "stale-version",
            N_("The claim has changed"),
            str(error),
            headers={"ETag": f'"{error.current}"'},
        )
    if isinstance(error, SubjectErased):
        return Problem(
            409,
            "personal-data-erased",
            N_("Personal data erased"),
            N_("this record's personal data was erased; it takes no new free text"),
        )
    if isinstance(error, ConcurrencyConflict):
        return Problem(
            409,
            "conflict",
            N_("Changed by someone else"),
            N_("another change to the same record was saved first; reload and retry"),
        )
    return None
