"""Receipts for tests: real image files made with Pillow (one with GPS EXIF, as a phone
writes it), and the two storages — a directory, and a bucket on the local S3-compatible
server (moto's, from `BRIDGES_TEST_S3_URL`, else started by `deploy/local/s3.sh up`)."""

from __future__ import annotations

import io
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from PIL import Image, ImageDraw
from pypdf import PdfWriter
from pypdf.generic import NameObject, StreamObject

from services.ledger.receipts.storage import (
    LocalReceiptStorage,
    ReceiptStorage,
    S3ReceiptStorage,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
S3_URL_ENV = "BRIDGES_TEST_S3_URL"
S3_SCRIPT = REPO_ROOT / "deploy" / "local" / "s3.sh"
GPS_IFD = 0x8825
ORIENTATION = 0x0112


def receipt_image(size: tuple[int, int] = (120, 80), colour: str = "white") -> Image.Image:
    image = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(image)
    draw.text((8, 8), "BUS £12.40", fill="black")
    return image


def jpeg_with_gps(size: tuple[int, int] = (120, 80), *, rotated: bool = False) -> bytes:
    """A JPEG whose EXIF says where it was taken (and, if rotated, to turn it on display)."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    if rotated:
        exif[ORIENTATION] = 6  # rotate 90° clockwise to display
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (53.0, 28.0, 48.0)
    gps[3] = "W"
    gps[4] = (2.0, 14.0, 24.0)
    out = io.BytesIO()
    receipt_image(size).save(out, format="JPEG", exif=exif)
    return out.getvalue()


def png_with_text() -> bytes:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", "Amina Khan")
    info.add_text("Location", "53.48,-2.24")
    out = io.BytesIO()
    receipt_image().save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def heic() -> bytes:
    out = io.BytesIO()
    receipt_image().save(out, format="HEIF")
    return out.getvalue()


PDF_AUTHOR = "Amina Khan"
XMP_PACKET = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/">'
    b"<dc:creator>Amina Khan, 51.4816 N 3.1791 W</dc:creator></rdf:Description>"
    b'</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)


def tiny_pdf() -> bytes:
    """A one-page PDF as a scanning app writes it: who scanned it, with what, when, and an XMP
    packet naming the person and a place (on the document and on its page)."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=200, height=300)
    writer.add_metadata(
        {
            "/Author": PDF_AUTHOR,
            "/Creator": "ScanPro 7 on Amina's iPhone",
            "/Producer": "ScanPro PDF engine 7.2",
            "/Title": "Bus ticket Cardiff to Swansea",
            "/CreationDate": "D:20260301101500+00'00'",
        }
    )
    for owner in (writer.root_object, page):
        xmp = StreamObject()
        xmp.set_data(XMP_PACKET)
        xmp.update({NameObject("/Type"): NameObject("/Metadata")})
        owner[NameObject("/Metadata")] = writer._add_object(xmp)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def s3_endpoint() -> str:
    url = os.environ.get(S3_URL_ENV)
    if url:
        return url
    for command in ("up", "url"):
        result = subprocess.run(
            ["bash", str(S3_SCRIPT), command],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            pytest.fail(f"s3.sh {command} failed:\n{result.stdout}\n{result.stderr}", pytrace=False)
    return result.stdout.strip().splitlines()[-1]


def s3_storage(endpoint: str) -> S3ReceiptStorage:
    """A fresh bucket on the local S3-compatible server (test credentials, loopback only)."""
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="eu-west-2",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto's, on loopback
    )
    storage = S3ReceiptStorage(client, f"receipts-{uuid.uuid4().hex[:12]}")
    storage.client.create_bucket(
        Bucket=storage.bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"}
    )
    return storage


@pytest.fixture(scope="session")
def s3_url() -> str:
    return s3_endpoint()


@pytest.fixture(params=["local", "s3"])
def receipt_storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ReceiptStorage]:
    """Each storage in turn: a directory, then a bucket on the S3-compatible server."""
    if request.param == "local":
        yield LocalReceiptStorage(tmp_path / "receipts")
    else:
        yield s3_storage(request.getfixturevalue("s3_url"))
