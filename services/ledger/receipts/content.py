"""What an uploaded receipt really is, and the clean file Bridges keeps of it.

The type is sniffed from the bytes (the file name and the declared type are ignored), then
proved by decoding: a JPEG, PNG or HEIC photo is decoded and re-encoded by Pillow, which drops
every piece of metadata (EXIF, including GPS positions; XMP; PNG text chunks) and applies the
EXIF orientation first so the picture still stands the right way up. HEIC (iPhone photos) is
converted to JPEG with pillow-heif. A PDF must start with `%PDF-` and end with `%%EOF`, and is
kept as sent (PDFs from scanners and card terminals rarely carry location; see the README).
Anything else is refused with a reason a person can act on.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

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
        return CleanReceipt(data, PDF)
    return _reencode(data, kind)


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
