"""What a receipt really is: sniffed from its bytes, proved by decoding, and re-encoded
without metadata (a JPEG with GPS EXIF in, none out)."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from pypdf import PdfReader

from services.ledger.receipts.content import (
    JPEG,
    PDF,
    PNG,
    ReceiptRefused,
    clean_receipt,
    sniff,
)
from tests.support.receipts import (
    GPS_IFD,
    PDF_AUTHOR,
    XMP_PACKET,
    heic,
    jpeg_with_gps,
    png_with_text,
    receipt_image,
    tiny_pdf,
)

MAX = 5_000_000


def test_a_jpeg_with_gps_exif_comes_out_with_no_exif_at_all() -> None:
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)  # the input has GPS
    clean = clean_receipt(original, max_bytes=MAX)
    assert clean.media_type == JPEG
    out = Image.open(io.BytesIO(clean.content))
    assert dict(out.getexif()) == {}
    assert not out.getexif().get_ifd(GPS_IFD)
    assert b"Exif" not in clean.content and b"PhoneMaker" not in clean.content
    assert out.size == (120, 80)


def test_the_orientation_is_applied_before_the_tag_is_dropped() -> None:
    clean = clean_receipt(jpeg_with_gps((120, 80), rotated=True), max_bytes=MAX)
    assert Image.open(io.BytesIO(clean.content)).size == (80, 120)


def test_png_text_chunks_are_dropped() -> None:
    clean = clean_receipt(png_with_text(), max_bytes=MAX)
    assert clean.media_type == PNG
    assert b"Amina Khan" not in clean.content and b"tEXt" not in clean.content
    assert Image.open(io.BytesIO(clean.content)).size == (120, 80)


def test_heic_is_converted_to_jpeg() -> None:
    clean = clean_receipt(heic(), max_bytes=MAX)
    assert clean.media_type == JPEG
    assert Image.open(io.BytesIO(clean.content)).format == "JPEG"


def test_a_pdf_is_kept_without_its_metadata_and_hashed() -> None:
    sent = tiny_pdf()
    assert PdfReader(io.BytesIO(sent)).metadata["/Author"] == PDF_AUTHOR  # the test's premise
    assert XMP_PACKET in sent
    clean = clean_receipt(sent, max_bytes=MAX)

    assert clean.media_type == PDF
    kept = PdfReader(io.BytesIO(clean.content))
    assert kept.metadata is None  # no Info dictionary: no Author, Creator, Producer, Title
    assert "/Metadata" not in kept.trailer["/Root"]
    assert all("/Metadata" not in page for page in kept.pages)
    assert len(kept.pages) == 1 and float(kept.pages[0].mediabox.width) == 200
    for personal in (b"Amina", b"ScanPro", b"Cardiff", b"51.4816", b"xpacket"):
        assert personal not in clean.content, personal
    assert len(clean.sha256) == 64 and clean.size_bytes == len(clean.content)
    # The same file is the same receipt: the clean copy is the same bytes every time.
    assert clean_receipt(sent, max_bytes=MAX).content == clean.content


def test_a_pdf_that_cannot_be_read_is_refused() -> None:
    with pytest.raises(ReceiptRefused, match="could not be read") as refused:
        clean_receipt(
            b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<<>>\n%%EOF\n", max_bytes=MAX
        )
    assert refused.value.status == 422


def test_the_type_comes_from_the_bytes_not_the_name() -> None:
    out = io.BytesIO()
    receipt_image().save(out, format="GIF")
    assert sniff(out.getvalue()) is None
    assert sniff(jpeg_with_gps()) == "jpeg"
    assert sniff(b"%PDF-1.7") == "pdf"
    assert sniff(heic()) == "heic"
    with pytest.raises(ReceiptRefused) as refused:
        clean_receipt(out.getvalue(), max_bytes=MAX)
    assert refused.value.status == 415


@pytest.mark.parametrize(
    ("content", "status"),
    [
        (b"", 422),
        (b"\x89PNG\r\n\x1a\n but nothing else", 422),
        (b"%PDF-1.4 no end", 422),
        (b"MZ\x90\x00 an executable", 415),
        (b"\xff\xd8\xff" + b"\x00" * 100, 413),
    ],
)
def test_refusals_say_why(content: bytes, status: int) -> None:
    with pytest.raises(ReceiptRefused) as refused:
        clean_receipt(content, max_bytes=50)
    assert refused.value.status == status
    assert str(refused.value)


@pytest.mark.parametrize("size", [(12_000, 9_000), (20_000, 10_000)], ids=["108MP", "200MP"])
def test_a_decompression_bomb_is_refused_before_it_is_decoded(size: tuple[int, int]) -> None:
    out = io.BytesIO()
    Image.new("1", size).save(out, format="PNG")  # a few kilobytes
    with pytest.raises(ReceiptRefused, match="pixels"):
        clean_receipt(out.getvalue(), max_bytes=MAX)
