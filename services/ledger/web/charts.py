"""Server-side SVG charts: no script, no styles, each with a text alternative.

Every word in a chart (title, description, axes, legend, labels) is in the language of the
moment, as are its dates and amounts.

`aging_chart` (balances) draws one horizontal bar per aging bucket; the indicator charts are
columns: days to pay, aging over time (stacked) and the on-time rate against the 95% line.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from babel.dates import format_date
from markupsafe import Markup, escape

from shared import i18n
from shared.i18n import N_, gettext, ngettext

from .presenters import AGING_LABELS

# GOV.UK colours with at least 3:1 contrast against white (WCAG 1.4.11 non-text contrast).
_BAR_COLOURS = {
    "not_due": "#1d70b8",
    "1-30": "#594d00",
    "31-60": "#d4351c",
    "61-90": "#942514",
    "90+": "#0b0c0c",
}
_WIDTH, _LABEL_WIDTH, _BAR_HEIGHT, _GAP = 640, 230, 28, 14


def aging_chart(aging: Mapping[str, int], *, chart_id: str, title: str) -> Markup:
    """One horizontal bar per aging bucket; the figures are also written as text."""
    largest = max([*aging.values(), 1])
    bar_space = _WIDTH - _LABEL_WIDTH - 110
    height = len(aging) * (_BAR_HEIGHT + _GAP) + _GAP
    summary = "; ".join(
        f"{AGING_LABELS.get(bucket, bucket)}: {i18n.money(pence)}"
        for bucket, pence in aging.items()
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bridges-chart" role="img" '
        f'width="100%" viewBox="0 0 {_WIDTH} {height}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" focusable="false">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(summary)}</desc>',
    ]
    for index, (bucket, pence) in enumerate(aging.items()):
        y = _GAP + index * (_BAR_HEIGHT + _GAP)
        width = 0 if pence <= 0 else max(2, round(bar_space * pence / largest))
        middle = y + _BAR_HEIGHT / 2 + 6
        parts.append(
            f'<text x="0" y="{middle}" font-family="arial, sans-serif" font-size="16" '
            f'fill="#0b0c0c">{escape(AGING_LABELS.get(bucket, bucket))}</text>'
        )
        parts.append(
            f'<rect x="{_LABEL_WIDTH}" y="{y}" width="{width}" height="{_BAR_HEIGHT}" '
            f'fill="{_BAR_COLOURS.get(bucket, "#505a5f")}"></rect>'
        )
        parts.append(
            f'<text x="{_LABEL_WIDTH + width + 8}" y="{middle}" font-family="arial, sans-serif" '
            f'font-size="16" font-weight="bold" fill="#0b0c0c">{i18n.money(pence)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  # nosec B704: every value is escaped or a number


# ---- column charts of the equity indicators -------------------------------------------------
# Each is an <svg role="img"> named by its <title> and described by a <desc> that says every
# value in words; the pages put the same figures in a data table next to the chart.

_INK, _SECONDARY, _GRID = "#0b0c0c", "#505a5f", "#b1b4b6"
_GOOD, _BAD = "#1d70b8", "#d4351c"  # blue: within the benchmark; red: outside it
_FONT = 'font-family="arial, sans-serif"'
_CHART_WIDTH, _PLOT_HEIGHT = 640, 220
_NOTHING_DUE = "–"


def _text(
    x: float,
    y: float,
    content: str,
    *,
    size: int = 14,
    anchor: str = "start",
    bold: bool = False,
    fill: str = _INK,
    halo: bool = False,
) -> str:
    weight = ' font-weight="bold"' if bold else ""
    # A white outline under the letters keeps a label legible where it crosses a line.
    outline = ' stroke="#ffffff" stroke-width="4" paint-order="stroke"' if halo else ""
    return (
        f'<text x="{x:g}" y="{y:g}" {_FONT} font-size="{size}" text-anchor="{anchor}"'
        f'{weight} fill="{fill}"{outline}>{escape(content)}</text>'
    )


def _open_svg(chart_id: str, title: str, description: str, height: float) -> list[str]:
    # Every word of the chart is in the page's language, so the chart needs no lang of its own.
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bridges-chart" role="img" '
        f'width="100%" viewBox="0 0 {_CHART_WIDTH} {height:g}" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" focusable="false">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>',
    ]


def _nice_step(largest: float, ticks: int = 4) -> float:
    """A round step (1, 2, 2.5 or 5 × 10ⁿ) giving about `ticks` gridlines up to `largest`."""
    if largest <= 0:
        return 1
    raw = largest / ticks
    magnitude = math.pow(10, math.floor(math.log10(raw)))
    for multiple in (1.0, 2.0, 2.5, 5.0):
        if multiple * magnitude >= raw:
            return multiple * magnitude
    return 10 * magnitude


def _axis_ticks(largest: float, *, whole: bool) -> list[float]:
    """Gridline values from 0 to a round top with room above the largest value (for the
    labels written on top of the columns)."""
    largest = largest * 1.1
    step = _nice_step(largest)
    if whole:
        step = max(1, math.ceil(step))
    top = step * max(1, math.ceil(largest / step))
    count = round(top / step)
    return [step * i for i in range(count + 1)]


def compact_money(pence: int | float) -> str:
    """An axis or bar label: £0, £950, £1.2k, £15k, £1.5m (whole pounds)."""
    pounds = pence / 100
    if abs(pounds) < 1000:
        return f"£{pounds:,.0f}"
    # k and m read the same in Welsh (mil, miliwn), as on Welsh public bodies' own charts.
    if abs(pounds) < 1_000_000:
        value = pounds / 1000
        return f"£{value:.1f}k".replace(".0k", "k") if value < 100 else f"£{value:.0f}k"
    return f"£{pounds / 1_000_000:.1f}m".replace(".0m", "m")


@dataclass(frozen=True)
class _Frame:
    """The plot area of a column chart and its columns' slots."""

    left: float
    top: float
    right: float
    columns: int
    height: float = _PLOT_HEIGHT

    @property
    def bottom(self) -> float:
        return self.top + self.height

    @property
    def slot(self) -> float:
        return (_CHART_WIDTH - self.left - self.right) / max(self.columns, 1)

    @property
    def bar_width(self) -> float:
        return min(56.0, self.slot * 0.62)

    def centre(self, index: int) -> float:
        return self.left + self.slot * (index + 0.5)

    def y(self, value: float, top_value: float) -> float:
        return self.bottom - (self.height * value / top_value if top_value else 0)


def _grid(frame: _Frame, ticks: list[float], label: Callable[[float], str]) -> list[str]:
    parts = []
    top_value = ticks[-1]
    for tick in ticks:
        y = frame.y(tick, top_value)
        colour = _INK if tick == 0 else _GRID
        parts.append(
            f'<line x1="{frame.left:g}" y1="{y:g}" x2="{_CHART_WIDTH - frame.right:g}" '
            f'y2="{y:g}" stroke="{colour}" stroke-width="1"></line>'
        )
        parts.append(_text(frame.left - 8, y + 5, label(tick), size=13, anchor="end"))
    return parts


def _legend(items: Sequence[tuple[str, str]], y: float, column_width: int = 205) -> list[str]:
    """Swatches and labels, three to a row, from x = 0."""
    parts = []
    for index, (colour, label) in enumerate(items):
        row, column = divmod(index, 3)
        x = column * column_width
        top = y + row * 24
        if colour:
            parts.append(
                f'<rect x="{x}" y="{top:g}" width="14" height="14" fill="{colour}"></rect>'
            )
        else:  # a mark drawn in the chart itself, e.g. "–" for a month with nothing due
            parts.append(_text(x + 7, top + 12, _NOTHING_DUE, size=14, anchor="middle", bold=True))
        parts.append(_text(x + 20, top + 12, label, size=14))
    return parts


def _month_labels(days: Sequence[date]) -> list[tuple[str, str]]:
    """Two-line labels: 'Nov' (or '16 Nov' when not a month's end) and the year when it
    changes."""
    labels = []
    previous_year = None
    for day in days:
        month_end = (day + timedelta(days=1)).day == 1
        month = format_date(day, "LLL", locale=i18n.babel_locale())
        first = month if month_end else f"{day.day} {month}"
        second = str(day.year) if day.year != previous_year else ""
        previous_year = day.year
        labels.append((first, second))
    return labels


def _column(x: float, y: float, width: float, height: float, colour: str) -> str:
    return (
        f'<rect x="{x:g}" y="{y:g}" width="{width:g}" height="{max(height, 0):g}" '
        f'fill="{colour}"></rect>'
    )


DAYS_TO_PAY_LABELS = {
    "0-5": N_("0 to 5 days"),
    "6-10": N_("6 to 10 days"),
    "11-30": N_("11 to 30 days"),
    "31-60": N_("31 to 60 days"),
    "61-90": N_("61 to 90 days"),
    "90+": N_("More than 90 days"),
}


def days_to_pay_label(bin_name: str) -> str:
    if bin_name in DAYS_TO_PAY_LABELS:
        return gettext(DAYS_TO_PAY_LABELS[bin_name])
    return gettext("%(bin)s days", bin=bin_name)


def _claims(count: int) -> str:
    return ngettext("%(num)d claim", "%(num)d claims", count)


def _month_year(day: date) -> str:
    return format_date(day, "LLLL y", locale=i18n.babel_locale())


def _percent(value: float) -> str:
    return f"{i18n.number(round(value, 1))}%"


def days_to_pay_chart(
    histogram: Sequence[Mapping[str, Any]], *, chart_id: str, title: str
) -> Markup:
    """Columns of claims paid in full by days from receipt to payment, blue within 30 days
    and red after, with the 30-day limit marked."""
    bins = list(histogram)
    counts = [int(b.get("claims") or 0) for b in bins]
    total = sum(counts)
    description = gettext(
        "%(claims)s paid in full in the period, by days from receipt to payment: %(bins)s. "
        "The legal limit is 30 days.",
        claims=_claims(total),
        bins="; ".join(
            f"{days_to_pay_label(str(b['bin']))}: {_claims(c)}"
            for b, c in zip(bins, counts, strict=True)
        ),
    )
    frame = _Frame(left=56, top=64, right=16, columns=len(bins))
    height = frame.bottom + 62
    ticks = _axis_ticks(max([*counts, 1]), whole=True)
    parts = _open_svg(chart_id, title, description, height)
    parts += _legend(
        [(_GOOD, gettext("Paid within 30 days")), (_BAD, gettext("Paid after 30 days"))], 0, 220
    )
    parts.append(_text(0, frame.top - 14, gettext("Claims"), size=13, bold=True))
    parts += _grid(frame, ticks, lambda v: f"{v:g}")
    limit_index = None
    for index, (bucket, count) in enumerate(zip(bins, counts, strict=True)):
        within = bucket.get("max_days") is not None and int(bucket["max_days"]) <= 30
        if within:
            limit_index = index
        centre = frame.centre(index)
        top = frame.y(count, ticks[-1])
        parts.append(
            _column(
                centre - frame.bar_width / 2,
                top,
                frame.bar_width,
                frame.bottom - top,
                _GOOD if within else _BAD,
            )
        )
        parts.append(_text(centre, top - 6, str(count), size=14, anchor="middle", bold=True))
        low, _, high = str(bucket["bin"]).partition("-")
        label = f"{low}–{high}" if high else gettext("Over %(days)s", days=low.rstrip("+"))
        parts.append(_text(centre, frame.bottom + 20, label, size=14, anchor="middle"))
    if limit_index is not None and limit_index + 1 < len(bins):
        x = frame.left + frame.slot * (limit_index + 1)
        parts.append(
            f'<line x1="{x:g}" y1="{frame.top - 20:g}" x2="{x:g}" y2="{frame.bottom:g}" '
            f'stroke="{_INK}" stroke-width="2" stroke-dasharray="6 4"></line>'
        )
        parts.append(_text(x + 6, frame.top - 14, gettext("30-day limit"), size=13, bold=True))
    parts.append(
        _text(
            frame.left + (_CHART_WIDTH - frame.left - frame.right) / 2,
            frame.bottom + 44,
            gettext("Days from receipt to payment in full"),
            size=14,
            anchor="middle",
        )
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  # nosec B704: every value is escaped or a number


def aging_over_time_chart(
    points: Sequence[Mapping[str, Any]], *, chart_id: str, title: str
) -> Markup:
    """Stacked columns of the open amount at each month end, split by how late it is."""
    days = [date.fromisoformat(str(p["as_at"])[:10]) for p in points]
    buckets = list(AGING_LABELS)
    stacks = [[int((p.get("buckets") or {}).get(b) or 0) for b in buckets] for p in points]
    totals = [sum(stack) for stack in stacks]
    months = []
    for day, stack, total in zip(days, stacks, totals, strict=True):
        month = gettext(
            "%(date)s: %(amount)s open", date=i18n.long_date(day), amount=i18n.money(total)
        )
        if total:
            split = ", ".join(
                f"{AGING_LABELS.get(b).lower()} {i18n.money(v)}"
                for b, v in zip(buckets, stack, strict=True)
                if v
            )
            month = f"{month} ({split})"
        months.append(month)
    description = gettext(
        "Open amount at each month end, by how late it is: %(months)s", months="; ".join(months)
    )
    legend_rows = math.ceil(len(buckets) / 3)
    frame = _Frame(left=64, top=legend_rows * 24 + 40, right=8, columns=len(points))
    height = frame.bottom + 48
    ticks = _axis_ticks(max([*totals, 1]), whole=True)
    parts = _open_svg(chart_id, title, description, height)
    parts += _legend([(_BAR_COLOURS[b], AGING_LABELS.get(b)) for b in buckets], 0)
    parts.append(_text(0, frame.top - 14, gettext("Open amount"), size=13, bold=True))
    parts += _grid(frame, ticks, compact_money)
    for index, (stack, total) in enumerate(zip(stacks, totals, strict=True)):
        centre = frame.centre(index)
        base = frame.bottom
        for bucket, pence in zip(buckets, stack, strict=True):
            if pence <= 0:
                continue
            top = frame.y(pence, ticks[-1]) - (frame.bottom - base)
            # A white edge keeps neighbouring colours apart.
            parts.append(
                f'<rect x="{centre - frame.bar_width / 2:g}" y="{top:g}" '
                f'width="{frame.bar_width:g}" height="{base - top:g}" '
                f'fill="{_BAR_COLOURS[bucket]}" stroke="#ffffff" stroke-width="1"></rect>'
            )
            base = top
        if total:  # an empty month has no column; the axis and the table say £0
            parts.append(
                _text(centre, base - 6, compact_money(total), size=12, anchor="middle", bold=True)
            )
    for index, (first, second) in enumerate(_month_labels(days)):
        centre = frame.centre(index)
        parts.append(_text(centre, frame.bottom + 18, first, size=13, anchor="middle"))
        if second:
            parts.append(
                _text(centre, frame.bottom + 36, second, size=13, anchor="middle", fill=_SECONDARY)
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  # nosec B704: every value is escaped or a number


def on_time_chart(
    points: Sequence[Mapping[str, Any]],
    *,
    chart_id: str,
    title: str,
    target: float = 95,
) -> Markup:
    """Columns of the share of each month's due claims paid on time, against a target line
    (the NHS Better Payment Practice Code's 95%); months with nothing due say so."""
    months = [date.fromisoformat(f"{p['month']}-01") for p in points]
    rates = [
        None if p.get("on_time_percent") is None else float(p["on_time_percent"]) for p in points
    ]
    phrases = []
    for month, point, rate in zip(months, points, rates, strict=True):
        if rate is None:
            phrases.append(gettext("%(month)s: no claims due", month=_month_year(month)))
            continue
        facts = {
            "month": _month_year(month),
            "rate": _percent(rate),
            "paid": point.get("paid_on_time", 0),
            "due": point.get("due", 0),
        }
        if rate >= target:
            phrase = gettext(
                "%(month)s: %(rate)s (%(paid)s of %(due)s due paid on time), meets the target",
                **facts,
            )
        else:
            phrase = gettext(
                "%(month)s: %(rate)s (%(paid)s of %(due)s due paid on time), below the target",
                **facts,
            )
        phrases.append(phrase)
    description = gettext(
        "Share of the claims due each month that were paid on time, against the %(target)s "
        "target of the NHS Better Payment Practice Code: %(months)s.",
        target=_percent(target),
        months="; ".join(phrases),
    )
    frame = _Frame(left=56, top=64, right=92, columns=len(points))
    height = frame.bottom + 48
    ticks = [0.0, 25.0, 50.0, 75.0, 100.0]
    parts = _open_svg(chart_id, title, description, height)
    parts += _legend(
        [
            (_GOOD, gettext("%(target)s or more on time", target=_percent(target))),
            (_BAD, gettext("Under %(target)s on time", target=_percent(target))),
            ("", gettext("No claims due")),
        ],
        0,
        215,
    )
    parts.append(_text(0, frame.top - 14, gettext("Paid on time"), size=13, bold=True))
    parts += _grid(frame, ticks, _percent)
    labels: list[str] = []
    for index, rate in enumerate(rates):
        centre = frame.centre(index)
        if rate is None:
            parts.append(
                _text(centre, frame.bottom - 6, _NOTHING_DUE, size=14, anchor="middle", bold=True)
            )
            continue
        top = frame.y(rate, 100)
        colour = _GOOD if rate >= target else _BAD
        parts.append(
            _column(centre - frame.bar_width / 2, top, frame.bar_width, frame.bottom - top, colour)
        )
        # Drawn after the target line (below), so the outline keeps it legible across it.
        labels.append(
            _text(
                centre,
                top - 6,
                _percent(round(rate)),
                size=12,
                anchor="middle",
                bold=True,
                halo=True,
            )
        )
    line_y = frame.y(target, 100)
    parts.append(
        f'<line x1="{frame.left:g}" y1="{line_y:g}" x2="{_CHART_WIDTH - frame.right + 4:g}" '
        f'y2="{line_y:g}" stroke="{_INK}" stroke-width="2" stroke-dasharray="6 4"></line>'
    )
    parts.append(
        _text(
            _CHART_WIDTH - frame.right + 8,
            line_y + 5,
            gettext("%(target)s target", target=_percent(target)),
            size=13,
            bold=True,
        )
    )
    parts += labels
    for index, (first, second) in enumerate(_month_labels([_month_end(m) for m in months])):
        centre = frame.centre(index)
        parts.append(_text(centre, frame.bottom + 18, first, size=13, anchor="middle"))
        if second:
            parts.append(
                _text(centre, frame.bottom + 36, second, size=13, anchor="middle", fill=_SECONDARY)
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  # nosec B704: every value is escaped or a number


def _month_end(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
