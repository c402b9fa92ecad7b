"""A server-side SVG bar chart of aging: no script, no styles, a text alternative."""

from __future__ import annotations

from collections.abc import Mapping

from markupsafe import Markup, escape

from shared.money import format_pence

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
        f"{AGING_LABELS.get(bucket, bucket)}: {format_pence(pence)}"
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
            f'font-size="16" font-weight="bold" fill="#0b0c0c">{format_pence(pence)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every value above is escaped or a number
