"""What the PDFs of both services share: the statements' look (fonts, colours, the tables with a
shaded header that repeats on every page) and "Page N of M" in the footer, in the language in
use. The standard Helvetica font keeps files small and their text extractable; it covers
Windows-1252 (`shared.text.latin`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas
from reportlab.platypus import Table, TableStyle

from shared.i18n import gettext
from shared.text import latin

FONT = "Helvetica"
BOLD = "Helvetica-Bold"
INK = colors.HexColor("#1b1b1b")
RULE = colors.HexColor("#9a9a9a")
SHADE = colors.HexColor("#eef1f4")
HEAD = colors.HexColor("#23395d")


def escape(text: str) -> str:
    """Text for a reportlab Paragraph: shown in the standard fonts, markup characters escaped."""
    return latin(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def numbered_canvas(
    footer: str, stamp: str, page_width: float, margin: float
) -> type[canvas.Canvas]:
    """A canvas that holds its pages back until the end, to write ``footer`` and "Page N of M"
    on each; ``stamp`` is the file's creation date (so a document renders to the same bytes)."""

    class NumberedCanvas(canvas.Canvas):  # type: ignore[misc]  # reportlab has no types
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []
            self.setDateFormatter(lambda *_: stamp)

        def showPage(self) -> None:  # noqa: N802 (reportlab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, page in enumerate(self._pages, start=1):
                self.__dict__.update(page)
                self.setFont(FONT, 7.5)
                self.setFillColor(INK)
                self.drawString(margin, 9 * mm, footer)
                label = gettext("Page %(number)s of %(total)s", number=number, total=total)
                self.drawRightString(page_width - margin, 9 * mm, latin(label))
                self.setStrokeColor(RULE)
                self.setLineWidth(0.4)
                self.line(margin, 12 * mm, page_width - margin, 12 * mm)
                super().showPage()
            super().save()

    return NumberedCanvas


def table(
    rows: Sequence[Sequence[Any]],
    widths: Sequence[float],
    *,
    right: Sequence[int] = (),
    repeat: int = 1,
    bold_last: bool = False,
    bold_rows: Sequence[int] = (),
) -> Table:
    """A table with a shaded header row repeated on every page and shaded alternate rows;
    ``right`` columns aligned right, ``bold_rows`` (and the last, a total) in bold."""
    table = Table(list(rows), colWidths=list(widths), repeatRows=repeat, hAlign="LEFT")
    style = [
        ("FONT", (0, 0), (-1, -1), FONT, 8),
        ("FONT", (0, 0), (-1, 0), BOLD, 8),
        ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
        ("BACKGROUND", (0, 0), (-1, 0), HEAD),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]
    style += [("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, SHADE])]
    style += [("ALIGN", (column, 0), (column, -1), "RIGHT") for column in right]
    style += [("FONT", (0, row), (-1, row), BOLD, 8) for row in bold_rows]
    if bold_last:
        style += [("FONT", (0, -1), (-1, -1), BOLD, 8), ("LINEABOVE", (0, -1), (-1, -1), 0.8, INK)]
    table.setStyle(TableStyle(style))
    return table
