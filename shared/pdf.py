"""What the PDFs of both services share (the statements and the e-invoices' printable copy):
the document set-up, the font, the colours and paragraph styles, the tables with a shaded
header that repeats on every page, and "Page N of M" in the footer, in the language in use.

The font is DejaVu Sans (Debian's fonts-dejavu-core, a free licence that allows embedding),
embedded as a subset of the letters used: it has every Welsh letter (ŵ, ŷ and the rest), so
names and Welsh words print as written and their text extracts exactly. Its folder is
`BRIDGES_PDF_FONT_DIR` (default /usr/share/fonts/truetype/dejavu). Without the font files the
PDFs fall back to the standard Helvetica, which covers Windows-1252 only (`shared.text.latin`:
ŵ prints as w), and say so in the log once.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import SimpleDocTemplate, Table, TableStyle

from shared.i18n import gettext, language
from shared.text import latin

log = logging.getLogger(__name__)

FONT_DIR_VARIABLE = "BRIDGES_PDF_FONT_DIR"
DEFAULT_FONT_DIR = "/usr/share/fonts/truetype/dejavu"
FONT_FILES = {"BridgesSans": "DejaVuSans.ttf", "BridgesSans-Bold": "DejaVuSans-Bold.ttf"}
INK = colors.HexColor("#1b1b1b")
RULE = colors.HexColor("#9a9a9a")
SHADE = colors.HexColor("#eef1f4")
HEAD = colors.HexColor("#23395d")


@dataclass(frozen=True)
class Fonts:
    regular: str
    bold: str
    embedded: bool  # a TrueType font with every letter; else the standard Helvetica


@lru_cache(maxsize=1)
def fonts() -> Fonts:
    """The PDFs' fonts, registered with reportlab once per process."""
    folder = Path(os.environ.get(FONT_DIR_VARIABLE) or DEFAULT_FONT_DIR)
    try:
        for name, file in FONT_FILES.items():
            pdfmetrics.registerFont(TTFont(name, str(folder / file)))
    except Exception as error:  # reportlab raises TTFError or OSError; either way: no font
        log.warning(
            "PDF font not found in %s (%s): PDFs use Helvetica, without ŵ or ŷ", folder, error
        )
        return Fonts("Helvetica", "Helvetica-Bold", embedded=False)
    pdfmetrics.registerFontFamily(
        "BridgesSans",
        normal="BridgesSans",
        bold="BridgesSans-Bold",
        italic="BridgesSans",
        boldItalic="BridgesSans-Bold",
    )
    return Fonts("BridgesSans", "BridgesSans-Bold", embedded=True)


def shown(text: str) -> str:
    """Text as the font in use can show it: as it is in the embedded font, else in
    Windows-1252 (accents the standard fonts lack dropped)."""
    return text if fonts().embedded else latin(text)


def escape(text: str) -> str:
    """Text for a reportlab Paragraph: shown in the font in use, markup characters escaped."""
    return shown(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(frozen=True)
class Styles:
    title: ParagraphStyle
    heading: ParagraphStyle
    cell: ParagraphStyle
    cell9: ParagraphStyle
    note: ParagraphStyle


@lru_cache(maxsize=1)
def styles() -> Styles:
    """The paragraph styles of every PDF, in the font in use."""
    font = fonts()
    return Styles(
        title=ParagraphStyle("title", fontName=font.bold, fontSize=16, leading=20, textColor=HEAD),
        heading=ParagraphStyle(
            "heading", fontName=font.bold, fontSize=10.5, leading=14, textColor=HEAD
        ),
        cell=ParagraphStyle("cell", fontName=font.regular, fontSize=8, leading=9.5, textColor=INK),
        cell9=ParagraphStyle("cell9", fontName=font.regular, fontSize=9, leading=11, textColor=INK),
        note=ParagraphStyle("note", fontName=font.regular, fontSize=8, leading=10.5, textColor=INK),
    )


def pdf_stamp(moment: datetime) -> str:
    """A PDF date (the file's creation date) for `moment`."""
    return moment.astimezone(UTC).strftime("D:%Y%m%d%H%M%S+00'00'")


def build(
    story: list[Any],
    *,
    pagesize: tuple[float, float],
    margin: float,
    title: str,
    author: str,
    subject: str,
    creator: str,
    footer: str,
    created: datetime,
) -> bytes:
    """Lay out `story` as a PDF: the shared margins, the document's information (title,
    author, …), `footer` and "Page N of M" on every page. The same story and `created` always
    give the same bytes (reportlab's invariant mode: no random ids, no clock)."""
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=18 * mm,
        title=shown(title),
        author=shown(author),
        subject=shown(subject),
        creator=creator,
        lang=language(),  # the catalogue's /Lang: screen readers read it in that language
        invariant=True,
    )
    document.build(
        story,
        canvasmaker=numbered_canvas(shown(footer), pdf_stamp(created), pagesize[0], margin),
    )
    return buffer.getvalue()


def numbered_canvas(
    footer: str, stamp: str, page_width: float, margin: float
) -> type[canvas.Canvas]:
    """A canvas that holds its pages back until the end, to write ``footer`` and "Page N of M"
    on each; ``stamp`` is the file's creation date (so a document renders to the same bytes)."""

    class NumberedCanvas(canvas.Canvas):  # type: ignore[misc]  # reportlab has no types
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            # Every page starts in the PDFs' font (reportlab's own default is Helvetica).
            kwargs["initialFontName"] = fonts().regular
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
                self.setFont(fonts().regular, 7.5)
                self.setFillColor(INK)
                self.drawString(margin, 9 * mm, footer)
                label = gettext("Page %(number)s of %(total)s", number=number, total=total)
                self.drawRightString(page_width - margin, 9 * mm, shown(label))
                self.setStrokeColor(RULE)
                self.setLineWidth(0.4)
                self.line(margin, 12 * mm, page_width - margin, 12 * mm)
                super().showPage()
            super().save()

    return NumberedCanvas


def layout(
    rows: Sequence[Sequence[Any]], widths: Sequence[float], commands: Sequence[tuple[Any, ...]]
) -> Table:
    """A plain table (no shading) for laying things out side by side, in the PDFs' font."""
    grid = Table(list(rows), colWidths=list(widths), hAlign="LEFT")
    grid.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), fonts().regular, 9), *commands]))
    return grid


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
    font, bold = fonts().regular, fonts().bold
    style = [
        ("FONT", (0, 0), (-1, -1), font, 8),
        ("FONT", (0, 0), (-1, 0), bold, 8),
        ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
        ("BACKGROUND", (0, 0), (-1, 0), HEAD),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]
    style += [("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, SHADE])]
    style += [("ALIGN", (column, 0), (column, -1), "RIGHT") for column in right]
    style += [("FONT", (0, row), (-1, row), bold, 8) for row in bold_rows]
    if bold_last:
        style += [("FONT", (0, -1), (-1, -1), bold, 8), ("LINEABOVE", (0, -1), (-1, -1), 0.8, INK)]
    table.setStyle(TableStyle(style))
    return table
