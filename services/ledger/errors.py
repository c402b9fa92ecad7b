"""Errors of the application layer (the domain's own errors live in domain/errors.py).
The HTTP layer maps each onto a problem document."""

from __future__ import annotations


class NotFound(Exception):
    """No such resource, or one the caller may not see: both answer 404, by design."""

    def __init__(self, what: str) -> None:
        super().__init__(f"no {what} with that id")
        self.what = what


class Forbidden(Exception):
    """The caller sees the resource but their role may not do this."""


class StaleVersion(Exception):
    """The caller's If-Match does not match the claim's version."""

    def __init__(self, current: int, given: int) -> None:
        super().__init__(f"the claim is at version {current}, not {given}; reload and retry")
        self.current = current
        self.given = given


class Gone(Exception):
    """The resource existed but its content was erased (a receipt after erasure): 410."""


class Unavailable(Exception):
    """Something the ledger should have cannot be reached right now (a receipt's bytes that
    its storage does not return): 503, logged."""
