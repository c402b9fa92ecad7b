"""What an uploaded receipt really is, and the clean file Bridges keeps of it.

The type is sniffed from the bytes (the file name and the declared type are ignored), then
proved by decoding: a JPEG, PNG or HEIC photo is decoded and re-encoded by Pillow, which drops
every piece of metadata (EXIF, including GPS positions; XMP; PNG text chunks) and applies the
EXIF orientation first so the picture still stands the right way up. HEIC (iPhone photos) is
converted to JPEG with pillow-heif. A PDF must start with `%PDF-` and end with `%%EOF`, and is
read and written again by pypdf without its metadata: the document information (Author,
Creator, Producer, Title, Subject, Keywords, dates), the XMP metadata streams of the document and
of each page, and every earlier revision of an incrementally saved file. Its pages are kept as
they are. Anything else is refused with a reason a person can act on.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError
from pypdf.generic import DictionaryObject, NameObject

from shared.i18n import N_

JPEG = "image/jpeg"
PNG = "image/png"
PDF = "application/pdf"
MEDIA_TYPES = (JPEG, PNG, PDF)
EXTENSIONS = {JPEG: "jpg", PNG: "png", PDF: "pdf"}
# A photo from any phone fits (a 200 MP sensor is 200 million); a decompression bomb does not.
MAX_PIXELS = 100_000_000
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}

pillow_heif.register_heif_opener()


class ReceiptRefused(ValueError):
    """The upload is not a receipt Bridges keeps; the message says why and what to send.
    ``status``: 413 too large, 415 not a kind Bridges keeps, 422 a damaged file."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class CleanReceipt:
    """The file as Bridges stores it: sniffed type, metadata stripped, its content hash."""

    content: bytes
    media_type: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def size_bytes(self) -> int:
        return len(self.content)


def sniff(data: bytes) -> str | None:
    """The kind the bytes say they are: "jpeg", "png", "heic", "pdf", or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"%PDF-"):
        return "pdf"
    if len(data) >= 12 and data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "heic"
    return None


def clean_receipt(data: bytes, *, max_bytes: int) -> CleanReceipt:
    """The receipt to keep, or ReceiptRefused."""
    if not data:
        raise ReceiptRefused(N_("the file is empty"))
    if len(data) > max_bytes:
        raise ReceiptRefused(f"the file is larger than {max_bytes:,} bytes", 413)
    kind = sniff(data)
    if kind is None:
        raise ReceiptRefused(
            N_(
                "the file is not a JPEG, PNG, HEIC or PDF (its contents were checked, not its name)"
            ),
            415,
        )
    if kind == "pdf":
        if b"%%EOF" not in data[-1024:]:
            raise ReceiptRefused(N_("the PDF is incomplete (it has no end-of-file marker)"))
        return CleanReceipt(_without_pdf_metadata(data), PDF)
    return _reencode(data, kind)


_XMP = NameObject("/Metadata")
_PIECE_INFO = NameObject("/PieceInfo")  # an application's private data, often its name


def _without_pdf_metadata(data: bytes) -> bytes:
    """The PDF written again without who made it, with what, when and about what. The same
    file always gives the same bytes (its own /ID is kept; no new one, no new dates)."""
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise ReceiptRefused(N_("the PDF is password-protected: send it without a password"))
        writer = PdfWriter(clone_from=reader)
        writer.metadata = None  # no Info dictionary at all (not even pypdf's own Producer)
        owners: list[DictionaryObject] = [writer.root_object, *writer.pages]
        for owner in owners:
            for key in (_XMP, _PIECE_INFO):
                if key in owner:
                    del owner[key]
        writer.compress_identical_objects()  # drops the objects nothing refers to any more
        out = io.BytesIO()
        writer.write(out)
    except ReceiptRefused:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError) as error:
        raise ReceiptRefused(N_("the PDF could not be read: it may be damaged")) from error
    return out.getvalue()


def _reencode(data: bytes, kind: str) -> CleanReceipt:
    expected = {"jpeg": "JPEG", "png": "PNG", "heic": "HEIF"}[kind]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format != expected:
                    raise ReceiptRefused(f"the file is not a valid {kind.upper()} image")
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise ReceiptRefused(
                        f"the image has more than {MAX_PIXELS:,} pixels ({width} × {height})"
                    )
                image.load()
                upright = ImageOps.exif_transpose(image)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        if isinstance(error, ReceiptRefused):
            raise
        raise ReceiptRefused(
            f"the file looks like a {kind.upper()} image but cannot be read"
        ) from error
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
        raise ReceiptRefused(f"the image has more than {MAX_PIXELS:,} pixels") from error
    out = io.BytesIO()
    if kind == "png":
        pixels = upright.copy()
        pixels.info = {}  # no text chunks, EXIF, timestamps or ICC: only the pixels
        pixels.save(out, format="PNG", optimize=True)
        return CleanReceipt(out.getvalue(), PNG)
    rgb = upright.convert("RGB")
    rgb.info = {}
    # Pillow writes EXIF and XMP into a JPEG only when asked (exif=, xmp=): neither is.
    rgb.save(out, format="JPEG", quality=88, optimize=True)
    return CleanReceipt(out.getvalue(), JPEG)
