"""Balance statements from the notifier: choose a VCSE organisation and payer in a partnership
(only the pairs the person may see, from the ledger's agreements) and an "as at" date
(outstanding statement) or a period (activity statement); the statement is shown as tables,
with links to download it as CSV or PDF (the notifier's bytes, passed through)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.orm import aliased

from ...access import APPROVING_ROLES, VCSE_ROLES, Principal
from ...application import Ledger
from ...audit import record_access
from ...store.views import agreements, organisations, partnership_members, partnerships
from ..forms import DateParts, fill_date_parts, parse_date_parts
from ..notifier_client import (
    NotifierClient,
    NotifierNotFound,
    NotifierRefused,
    NotifierUnavailable,
)
from ..presenters import FormErrors
from ..sessions import current_person, requires
from .alerts import sees_notifier_pages

KINDS = ("outstanding", "activity")
FORMATS = {"csv": "CSV", "pdf": "PDF"}


@dataclass(frozen=True)
class Pair:
    """Whose statement: one VCSE organisation and one payer in one partnership."""

    agreement_id: str  # the first agreement between them: the form's value
    partnership_id: str
    partnership_name: str
    payee_id: str
    payee_name: str
    payer_id: str
    payer_name: str

    @property
    def label(self) -> str:
        return f"{self.payee_name}, paid by {self.payer_name} ({self.partnership_name})"

    @property
    def ids(self) -> tuple[str, str, str]:
        return (self.partnership_id, self.payee_id, self.payer_id)


def visible_pairs(ledger: Ledger, principal: Principal) -> list[Pair]:
    """The (partnership, VCSE organisation, payer) pairs with an agreement that the person
    may see a statement of: a partner viewer every pair in their partnerships, a VCSE
    organisation's people its own, a payer's approvers and finance theirs (the notifier
    applies the same rule)."""
    org = principal.organisation_id
    rules: list[ColumnElement[bool]] = []
    if "partner_viewer" in principal.roles:
        member_of = select(partnership_members.c.partnership_id).where(
            partnership_members.c.organisation_id == org
        )
        rules.append(agreements.c.partnership_id.in_(member_of))
    if principal.has_any(VCSE_ROLES):
        rules.append(agreements.c.payee_id == org)
    if principal.has_any(APPROVING_ROLES):
        rules.append(agreements.c.payer_id == org)
    payee = aliased(organisations)
    payer = aliased(organisations)
    own_partnerships = select(partnership_members.c.partnership_id).where(
        partnership_members.c.organisation_id == org
    )
    query = (
        select(
            agreements.c.id,
            agreements.c.partnership_id,
            partnerships.c.name.label("partnership_name"),
            agreements.c.payee_id,
            payee.c.name.label("payee_name"),
            agreements.c.payer_id,
            payer.c.name.label("payer_name"),
        )
        .select_from(
            agreements.join(partnerships, agreements.c.partnership_id == partnerships.c.id)
            .join(payee, agreements.c.payee_id == payee.c.id)
            .join(payer, agreements.c.payer_id == payer.c.id)
        )
        .where(
            and_(
                agreements.c.partnership_id.in_(own_partnerships),
                or_(*rules) if rules else false(),
            )
        )
        .order_by(partnerships.c.name, payee.c.name, payer.c.name, agreements.c.id)
    )
    with ledger.reading() as uow:
        rows = uow.connection.execute(query).all()
    found: dict[tuple[str, str, str], Pair] = {}
    for row in rows:
        key = (row.partnership_id, row.payee_id, row.payer_id)
        found.setdefault(
            key,
            Pair(
                row.id,
                row.partnership_id,
                row.partnership_name,
                row.payee_id,
                row.payee_name,
                row.payer_id,
                row.payer_name,
            ),
        )
    return list(found.values())


def pair_of(pairs: list[Pair], agreement_id: str, ledger: Ledger) -> Pair | None:
    """The pair an agreement id names, if the person may see it."""
    for pair in pairs:
        if pair.agreement_id == agreement_id:
            return pair
    # Another agreement between the same two organisations names the same statement.
    with ledger.reading() as uow:
        row = uow.connection.execute(
            select(agreements.c.partnership_id, agreements.c.payee_id, agreements.c.payer_id).where(
                agreements.c.id == agreement_id
            )
        ).first()
    if row is None:
        return None
    return next((p for p in pairs if p.ids == tuple(row)), None)


class DateErrors(FormErrors):
    """Errors of the date fields, worded for this form and linked to each day box."""

    LABELS = {
        "agreement": ("Whose statement", "agreement"),
        "as_at": ("The statement date", "as_at-day"),
        "start": ("The start date", "start-day"),
        "end": ("The end date", "end-day"),
    }

    def _text(self, path: str, message: str) -> str:
        label = self.LABELS.get(path, (path, path))[0]
        if message.startswith("Select") or message.startswith("Enter"):
            return message
        return f"{label} {message}"

    def message(self, path: str) -> dict[str, str] | None:
        messages = self.errors.get(path)
        return {"text": self._text(path, messages[0])} if messages else None

    def summary(self) -> list[dict[str, Any]]:
        return [
            {
                "text": self._text(path, messages[0]),
                "href": "#" + self.LABELS.get(path, (path, path))[1],
            }
            for path, messages in self.errors.items()
        ]


def read_date(form: DateParts, path: str, errors: DateErrors, default: date, today: date) -> date:
    """The date typed into a GOV.UK date input, or `default` (filled in) when blank."""
    try:
        value = parse_date_parts(form)
    except ValueError as error:
        errors.add(path, str(error))
        return default
    if value is None:
        fill_date_parts(form, default)
        return default
    if value > today:
        errors.add(path, "must be today or in the past")
    return value


def register(bp: Blueprint, ledger: Ledger, notifier: NotifierClient) -> None:
    @bp.route("/statements")
    @requires(sees_notifier_pages)
    def statements() -> Any:
        person = current_person()
        principal = person.principal
        today = ledger.today()
        pairs = visible_pairs(ledger, principal)
        errors = DateErrors()
        # A GET form (nothing changes), so no CSRF token.
        chosen = request.args.get("agreement")
        pair: Pair | None = pairs[0] if pairs and chosen is None else None
        if chosen is not None:
            if not chosen:
                errors.add("agreement", "Select whose statement to show")
            else:
                pair = pair_of(pairs, chosen, ledger)
                if pair is None:
                    abort(404)  # another tenant's, or no such agreement: never say which
        typed_kind = request.args.get("kind", "")
        kind = typed_kind if typed_kind in KINDS else "outstanding"
        as_at_form = DateParts(request.args, prefix="as_at")
        start_form = DateParts(request.args, prefix="start")
        end_form = DateParts(request.args, prefix="end")
        as_at = today
        start, end = today.replace(day=1), today
        if kind == "outstanding":
            as_at = read_date(as_at_form, "as_at", errors, today, today)
            _fill_blank(start_form, start)
            _fill_blank(end_form, end)
        else:
            end = read_date(end_form, "end", errors, today, today)
            start = read_date(start_form, "start", errors, end.replace(day=1), today)
            if "start" not in errors and "end" not in errors and end < start:
                errors.add("end", "must be the same as or after the start date")
            _fill_blank(as_at_form, today)

        statement: dict[str, Any] | None = None
        unavailable = False
        query = _query(kind, as_at, start, end)
        if pair is not None and not errors:
            try:
                statement = notifier.statement(principal.person_id, *pair.ids, **query)
            except NotifierNotFound:
                # The ledger says the person may see it, so the notifier has not caught up
                # with the events yet (a new agreement, say): not available right now.
                unavailable = True
            except NotifierRefused as refused:
                for field_name, messages in refused.errors.items():
                    if field_name in DateErrors.LABELS:
                        errors.add(field_name, messages[0])
                if not errors:
                    unavailable = True
            except NotifierUnavailable:
                unavailable = True
        downloads = []
        if statement is not None and pair is not None:
            record_access(
                ledger.store.engine,
                ledger.clock(),
                principal.person_id,
                [pair.payee_id, pair.payer_id],
                "view",
                "statement",
                f"{pair.agreement_id}:{kind}",
            )
            link: dict[str, Any] = {
                "agreement": pair.agreement_id,
                **{k: v.isoformat() if isinstance(v, date) else v for k, v in query.items()},
            }
            downloads = [
                {
                    "format": fmt,
                    "label": label,
                    "href": url_for("web.statement_download", format=fmt, **link),
                }
                for fmt, label in FORMATS.items()
            ]
        return (
            render_template(
                "statements/index.html",
                pairs=pairs,
                pair_items=_pair_items(pairs, pair),
                pair=pair,
                kind=kind,
                as_at_form=as_at_form,
                start_form=start_form,
                end_form=end_form,
                errors=errors,
                statement=statement,
                statement_aging=_aging(statement),
                downloads=downloads,
                unavailable=unavailable,
            ),
            400 if errors else 200,
        )

    @bp.route("/statements/download")
    @requires(sees_notifier_pages)
    def statement_download() -> Any:
        principal = current_person().principal
        fmt = request.args.get("format", "")
        if fmt not in FORMATS:
            abort(404)
        pair = pair_of(visible_pairs(ledger, principal), request.args.get("agreement", ""), ledger)
        if pair is None:
            abort(404)
        kind = request.args.get("kind", "")
        if kind not in KINDS:
            abort(400)
        try:
            dates: dict[str, Any] = {
                name: date.fromisoformat(request.args[name])
                for name in ("as_at", "start", "end")
                if request.args.get(name)
            }
        except ValueError:
            abort(400)
        try:
            download = notifier.statement_file(
                principal.person_id, *pair.ids, fmt, kind=kind, **dates
            )
        except NotifierRefused:
            abort(400)
        except (NotifierUnavailable, NotifierNotFound):  # not found: not caught up yet
            flash(
                "The statement could not be downloaded because statements are not available "
                "right now. Try again in a few minutes.",
                "error",
            )
            back: dict[str, Any] = {
                "agreement": pair.agreement_id,
                "kind": kind,
                **_parts({k: v.isoformat() for k, v in dates.items()}),
            }
            return redirect(url_for("web.statements", **back))
        record_access(
            ledger.store.engine,
            ledger.clock(),
            principal.person_id,
            [pair.payee_id, pair.payer_id],
            "download",
            "statement",
            f"{pair.agreement_id}:{kind}.{fmt}",
        )
        response = Response(download.content, content_type=download.content_type)
        response.headers["Content-Disposition"] = f'attachment; filename="{download.filename}"'
        # A statement is someone's finances: keep it out of shared caches and the history.
        response.headers["Cache-Control"] = "no-store"
        return response


def _pair_items(pairs: list[Pair], chosen: Pair | None) -> list[dict[str, Any]]:
    items = [{"value": p.agreement_id, "text": p.label, "selected": p == chosen} for p in pairs]
    if chosen is None:
        items.insert(0, {"value": "", "text": "Choose whose statement", "selected": True})
    return items


def _aging(statement: dict[str, Any] | None) -> dict[str, int]:
    """An outstanding statement's owed amounts per aging bucket, for the chart."""
    if statement is None or statement.get("kind") != "outstanding":
        return {}
    return {
        bucket: int(total.get("open_pence") or 0)
        for bucket, total in (statement.get("buckets") or {}).items()
    }


def _fill_blank(form: DateParts, value: date) -> None:
    """Show a default in the date input the person is not using (the other kind's)."""
    if not any((form[name].data or "").strip() for name in ("day", "month", "year")):
        fill_date_parts(form, value)


def _query(kind: str, as_at: date, start: date, end: date) -> dict[str, Any]:
    if kind == "outstanding":
        return {"kind": kind, "as_at": as_at}
    return {"kind": kind, "start": start, "end": end}


def _parts(dates: dict[str, str]) -> dict[str, str]:
    """ISO dates as the date inputs' query fields (as_at-day=…, as_at-month=…, …)."""
    fields: dict[str, str] = {}
    for name, iso in dates.items():
        value = date.fromisoformat(iso)
        fields.update(
            {
                f"{name}-day": str(value.day),
                f"{name}-month": str(value.month),
                f"{name}-year": str(value.year),
            }
        )
    return fields
