"""The web pages' client of the notifier's HTTP API (alerts, statements, indicators).

The notifier is another service with its own read model, so the pages fetch from it over
HTTP, server-side, as the signed-in person: each call carries a bearer token minted for that
person with `issue_token(person_id, ledger.token_key)`, the key both services share.

Such a token is not stored by the ledger (unlike the API tokens people are given, whose
digests the ledger keeps so it can revoke them), and that is fine:
- it is made for one request and then dropped: it never reaches the browser, a log or a
  database, and it lives only in this process's memory while the call is made;
- it grants nothing new: whoever holds the shared key can mint a token for anyone, and the
  ledger process holds the key already; the notifier checks the signature and looks the
  person up in its own copy of the people (their roles and organisation, from the events),
  so the person sees exactly what their roles allow there;
- the ledger's own API does not accept it (the ledger only honours tokens whose digest it
  stored), so it opens nothing on the ledger side.

Failures are values the pages can show: `NotifierUnavailable` (no answer, a timeout, a 5xx,
or the notifier not knowing the person yet) becomes a notification banner on a page that
still renders; `NotifierNotFound` becomes the 404 page; `NotifierRefused` carries a 4xx
problem's field errors.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import quote

import requests
from flask import g, has_request_context

from shared.i18n import language
from shared.logging import get_logger
from shared.tokens import issue_token

log = get_logger("ledger.web.notifier")

DEFAULT_TIMEOUT_SECONDS = 5.0
_FILENAME = re.compile(r'filename="?([A-Za-z0-9._-]{1,200})"?')


class NotifierError(Exception):
    """Something the notifier did not give us."""


class NotifierUnavailable(NotifierError):
    """The notifier could not answer (down, slow, broken, or not caught up with the person)."""


class NotifierNotFound(NotifierError):
    """The notifier has no such thing for this person (or may not say it exists)."""


@dataclass
class NotifierRefused(NotifierError):
    """The notifier refused the request (4xx): its problem title and field errors."""

    status: int
    title: str
    errors: dict[str, list[str]] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.title}: {self.errors}"


@dataclass(frozen=True)
class Download:
    """A file from the notifier: its bytes, content type and a safe file name."""

    content: bytes
    content_type: str
    filename: str


class NotifierClient:
    def __init__(
        self,
        base_url: str,
        token_key: bytes,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._key = token_key
        self.timeout = timeout
        self._local = threading.local()  # a requests.Session per thread (they are not shared)

    # ---- the API ---------------------------------------------------------------------------

    def alerts(
        self,
        person_id: str,
        *,
        status: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> dict[str, Any]:
        """A page of the person's alert feed, newest first: {"items", "next_cursor"}."""
        params: dict[str, Any] = {"limit": limit}
        if status:
            params["status"] = status
        if cursor:
            params["cursor"] = cursor
        return self._json("GET", person_id, "/api/v1/alerts", params=params)

    def acknowledge(self, person_id: str, alert_id: str) -> dict[str, Any]:
        return self._json("POST", person_id, f"/api/v1/alerts/{_segment(alert_id)}/acknowledge")

    def statement(
        self,
        person_id: str,
        partnership_id: str,
        payee_id: str,
        payer_id: str,
        **query: Any,
    ) -> dict[str, Any]:
        """A statement as JSON; `query`: kind, as_at, start, end (dates or ISO strings)."""
        return self._json(
            "GET",
            person_id,
            _statement_path(partnership_id, payee_id, payer_id),
            params=_params(query),
        )

    def statement_file(
        self,
        person_id: str,
        partnership_id: str,
        payee_id: str,
        payer_id: str,
        fmt: str,
        **query: Any,
    ) -> Download:
        """The statement's CSV or PDF bytes, with the notifier's content type and file name."""
        response = self._call(
            "GET",
            person_id,
            _statement_path(partnership_id, payee_id, payer_id),
            params={**_params(query), "format": fmt},
        )
        disposition = response.headers.get("Content-Disposition", "")
        match = _FILENAME.search(disposition)
        name = match.group(1) if match else f"bridges-statement.{fmt}"
        content_type = response.headers.get("Content-Type", "application/octet-stream")
        return Download(response.content, content_type, name)

    def indicators(
        self, person_id: str, scope: str, entity_id: str, **query: Any
    ) -> dict[str, Any]:
        """Indicators for `scope` (partnerships | payers | organisations) and an entity id;
        `query`: start, end, partnership_id."""
        if scope not in ("partnerships", "payers", "organisations"):
            raise ValueError(f"unknown indicator scope {scope!r}")
        return self._json(
            "GET",
            person_id,
            f"/api/v1/indicators/{scope}/{_segment(entity_id)}",
            params=_params(query),
        )

    def deliveries_to(self, operator_id: str, person_id: str) -> dict[str, Any]:
        """The alerts and statements the notifier sent (or will send) a person (operators)."""
        return self._json("GET", operator_id, f"/api/v1/people/{_segment(person_id)}/deliveries")

    def track_record(self, person_id: str, payer_id: str, partnership_id: str) -> dict[str, Any]:
        """The payer's last 90 days in the partnership: on-time rate, median days to pay."""
        return self._json(
            "GET",
            person_id,
            f"/api/v1/indicators/payers/{_segment(payer_id)}/track-record",
            params={"partnership_id": partnership_id},
        )

    def track_records(
        self, person_id: str, pairs: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], dict[str, Any] | None]:
        """Each (payer, partnership)'s track record, None where the notifier could not say
        (down, slow, or not caught up): the page shows the rest and says so."""
        found: dict[tuple[str, str], dict[str, Any] | None] = {}
        for payer_id, partnership_id in dict.fromkeys(pairs):
            try:
                found[(payer_id, partnership_id)] = self.track_record(
                    person_id, payer_id, partnership_id
                )
            except NotifierError:
                found[(payer_id, partnership_id)] = None
        return found

    # ---- plumbing --------------------------------------------------------------------------

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False  # no proxy from the environment between two services
            self._local.session = session
        return session

    def _json(
        self, method: str, person_id: str, path: str, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        response = self._call(method, person_id, path, params=params)
        try:
            body = response.json()
        except ValueError as error:
            log.warning("notifier answered without JSON", path=path, status=response.status_code)
            raise NotifierUnavailable("the notifier's answer was not JSON") from error
        if not isinstance(body, dict):
            raise NotifierUnavailable("the notifier's answer was not a JSON object")
        return body

    def _call(
        self, method: str, person_id: str, path: str, params: dict[str, Any] | None = None
    ) -> requests.Response:
        # Minted for this call only (see the module docstring); never logged.
        token = issue_token(person_id, self._key)
        # The page's language: the notifier words statements and problems in it.
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "*/*",
            "Accept-Language": language(),
        }
        if has_request_context() and g.get("request_id"):
            headers["X-Request-ID"] = str(g.request_id)  # one id in both services' logs
        try:
            response = self._session().request(
                method,
                self.base_url + path,
                params=params,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as error:
            log.warning("notifier unreachable", path=path, error=type(error).__name__)
            self._local.session = None  # a broken pooled connection is not reused
            raise NotifierUnavailable(str(error)) from error
        status = response.status_code
        if status < 300:
            return response
        if status == 404:
            raise NotifierNotFound(path)
        if status in (400, 409, 422):
            raise NotifierRefused(status, *_problem(response))
        # 401: the notifier does not know the person yet (its read model lags the events);
        # 403, 5xx and anything else: nothing the page can fix. All read as "not available".
        log.warning("notifier refused or failed", path=path, status=status)
        raise NotifierUnavailable(f"the notifier answered {status}")


def _segment(value: str) -> str:
    """A path segment, quoted so an id can never reach another route."""
    return quote(value, safe="")


def _statement_path(partnership_id: str, payee_id: str, payer_id: str) -> str:
    ids = "/".join(_segment(i) for i in (partnership_id, payee_id, payer_id))
    return f"/api/v1/statements/{ids}"


def _params(query: dict[str, Any]) -> dict[str, str]:
    return {
        name: value.isoformat() if isinstance(value, date) else str(value)
        for name, value in query.items()
        if value is not None and value != ""
    }


def _problem(response: requests.Response) -> tuple[str, dict[str, list[str]]]:
    try:
        body = response.json()
    except ValueError:
        return ("Refused", {})
    if not isinstance(body, dict):
        return ("Refused", {})
    errors = body.get("errors")
    fields = (
        {str(k): [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in errors.items()}
        if isinstance(errors, dict)
        else {}
    )
    return (str(body.get("title") or "Refused"), fields)
