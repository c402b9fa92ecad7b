"""What a command answers when it refuses; the HTTP layer maps each to a status."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from shared.messages import N_


class DomainError(Exception):
    """A command refused for a reason the user can act on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationFailed(DomainError):
    """Bad input (422): ``errors`` maps a field path such as ``lines.0.hours`` to its messages.

    Errors not about one field sit under ``_schema``.
    """

    def __init__(self, errors: Mapping[str, Sequence[str]], message: str | None = None) -> None:
        self.errors: dict[str, list[str]] = {path: list(msgs) for path, msgs in errors.items()}
        super().__init__(message or _summary(self.errors))

    @classmethod
    def on(cls, path: str, message: str) -> ValidationFailed:
        """One message on one field."""
        return cls({path: [message]})


class InvalidTransition(DomainError):
    """The command does not apply in the aggregate's current state (409)."""


class NotAllowed(DomainError):
    """This person may not do this to this aggregate, e.g. approve their own claim (403)."""


def _summary(errors: Mapping[str, Sequence[str]]) -> str:
    if len(errors) == 1:
        ((path, messages),) = errors.items()
        first = messages[0] if messages else N_("is invalid")
        return first if path == "_schema" else N_("%(path)s: %(message)s", path=path, message=first)
    return N_("%(count)s fields are invalid", count=len(errors))
