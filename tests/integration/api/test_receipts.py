"""Receipts on expense lines through the API, on both storages (a directory and the local
S3-compatible server): upload (sniffed, stripped), reference in a claim, fetch with safe
headers by whoever may see the claim (and nobody else), refusals as problems that store
nothing, and erasure that removes the bytes but keeps the reference."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import select

from services.ledger.api.app import create_app
from services.ledger.receipts.content import clean_receipt
from services.ledger.receipts.storage import LocalReceiptStorage, ReceiptStorage, receipt_key
from shared.settings import LedgerSettings
from tests.support.clock import MovableClock
from tests.support.receipts import GPS_IFD, heic, jpeg_with_gps, png_with_text, tiny_pdf
from tests.support.world import ApiClient, Tenant, World, build_world


@pytest.fixture
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> ReceiptStorage:
    """Both storages for the tests that ask for `receipt_storage`; a directory for the rest
    (what they check does not depend on where the bytes are)."""
    if "receipt_storage" in request.fixturenames:
        found: ReceiptStorage = request.getfixturevalue("receipt_storage")
        return found
    return LocalReceiptStorage(tmp_path / "receipts")


@pytest.fixture
def app(sqlite_url: str, clock: MovableClock, tmp_path: Path, storage: ReceiptStorage) -> Flask:
    settings = LedgerSettings(
        database_url=sqlite_url, var_dir=str(tmp_path), receipt_max_bytes=200_000
    )
    return create_app(settings, clock=clock, testing=True, receipt_storage=storage)


@pytest.fixture
def world(app: Flask, api: ApiClient, clock: MovableClock) -> World:
    return build_world(api, app.extensions["bridges.ledger"], clock.today())


def upload(world: World, token: str, content: bytes, name: str = "receipt.jpg") -> Any:
    return world.api.call(
        "POST",
        "/receipts",
        token,
        data={"file": (io.BytesIO(content), name, "application/octet-stream")},
        content_type="multipart/form-data",
    )


def claim_with(world: World, tenant: Tenant, receipt_ids: list[str]) -> dict[str, Any]:
    body = world.claim_body(tenant, world.ledger.today() - timedelta(days=1))
    body["expenses"][0]["receipts"] = receipt_ids
    return world.api.ok("POST", "/claims", tenant.tokens["vcse_member"], body)


def test_a_receipt_travels_with_the_claim_as_a_hash_and_loses_its_gps(
    world: World, receipt_storage: ReceiptStorage
) -> None:
    a = world.a
    response = upload(world, a.tokens["vcse_member"], jpeg_with_gps(rotated=True), "bus.png")
    assert response.status_code == 201, response.get_json()
    receipt = response.get_json()
    assert receipt["media_type"] == "image/jpeg"  # sniffed: the name said .png

    claim = claim_with(world, a, [receipt["id"]])
    [attached] = claim["expenses"][0]["receipts"]
    assert attached["id"] == receipt["id"]
    assert attached["href"] == f"/api/v1/claims/{claim['id']}/receipts/{receipt['id']}"

    # The approver fetches it: the bytes hash to the id, and no EXIF survives.
    fetched = world.api.get(f"/claims/{claim['id']}/receipts/{receipt['id']}", a.tokens["approver"])
    assert fetched.status_code == 200
    assert hashlib.sha256(fetched.data).hexdigest() == receipt["id"]
    image = Image.open(io.BytesIO(fetched.data))
    assert not image.getexif() and not image.getexif().get_ifd(GPS_IFD)
    assert image.size == (80, 120)  # turned upright before the orientation tag was dropped
    assert fetched.headers["Content-Type"] == "image/jpeg"
    assert fetched.headers["X-Content-Type-Options"] == "nosniff"
    assert fetched.headers["Content-Disposition"].startswith("inline; filename=")
    assert "sandbox" in fetched.headers["Content-Security-Policy"]
    assert "default-src 'none'" in fetched.headers["Content-Security-Policy"]

    # In the history: the reference only, never the bytes.
    history = world.api.ok("GET", f"/claims/{claim['id']}/history", a.tokens["vcse_member"])
    expenses = history["events"][0]["data"]["expenses"]
    assert expenses[0]["receipts"] == [
        {"sha256": receipt["id"], "media_type": "image/jpeg", "size_bytes": receipt["size_bytes"]}
    ]
    assert receipt_storage.get(receipt_key(a.payee_id, receipt["id"])) == fetched.data


def test_png_heic_and_pdf_are_kept_and_the_same_file_is_one_receipt(
    world: World, receipt_storage: ReceiptStorage
) -> None:
    token = world.a.tokens["vcse_member"]
    png = upload(world, token, png_with_text()).get_json()
    assert png["media_type"] == "image/png"
    converted = upload(world, token, heic(), "IMG_0001.HEIC").get_json()
    assert converted["media_type"] == "image/jpeg"
    pdf = upload(world, token, tiny_pdf(), "ticket.pdf").get_json()
    assert pdf["media_type"] == "application/pdf"
    assert upload(world, token, tiny_pdf(), "again.pdf").get_json()["id"] == pdf["id"]
    claim = claim_with(world, world.a, [png["id"], converted["id"], pdf["id"]])
    got = world.api.get(f"/claims/{claim['id']}/receipts/{png['id']}", token)
    assert b"Amina Khan" not in got.data and b"tEXt" not in got.data
    download = world.api.get(f"/claims/{claim['id']}/receipts/{pdf['id']}", token)
    assert download.headers["Content-Disposition"].startswith("attachment; filename=")
    assert download.data == clean_receipt(tiny_pdf(), max_bytes=10**7).content
    assert b"Amina Khan" not in download.data  # the PDF's metadata named its scanner


@pytest.mark.parametrize(
    ("content", "status", "slug"),
    [
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", 415, "receipt-type-refused"),
        (b"<html><script>alert(1)</script></html>", 415, "receipt-type-refused"),
        (b"\xff\xd8\xff\xe0 not really a jpeg", 422, "receipt-unreadable"),
        (b"%PDF-1.4 cut short", 422, "receipt-unreadable"),
        (b"", 422, "receipt-unreadable"),
        (b"\xff\xd8\xff" + b"0" * 300_000, 413, "too-large"),
    ],
    ids=["gif", "html", "broken-jpeg", "truncated-pdf", "empty", "too-large"],
)
def test_anything_else_is_refused_with_a_problem_and_nothing_is_stored(
    world: World, content: bytes, status: int, slug: str
) -> None:
    response = upload(world, world.a.tokens["vcse_member"], content, "receipt.jpg")
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["type"].endswith(slug)
    with world.ledger.reading() as uow:
        assert uow.connection.exec_driver_sql("SELECT count(*) FROM receipts").scalar() == 0


def test_a_claim_may_only_name_its_own_organisations_uploads(world: World) -> None:
    theirs = upload(world, world.b.tokens["vcse_member"], tiny_pdf()).get_json()
    before = world.events_written()
    body = world.claim_body(world.a, world.ledger.today())
    body["expenses"][0]["receipts"] = [theirs["id"]]
    response = world.api.post("/claims", world.a.tokens["vcse_member"], body)
    assert response.status_code == 422
    assert response.get_json()["errors"] == {
        "expenses.0.receipts.0": ["no receipt with this id was uploaded"]
    }
    body["expenses"][0]["receipts"] = ["not-a-hash"]
    assert world.api.post("/claims", world.a.tokens["vcse_member"], body).status_code == 422
    assert world.events_written() == before


def test_only_those_who_may_see_the_claim_fetch_its_receipts(world: World) -> None:
    a, b = world.a, world.b
    receipt = upload(world, a.tokens["vcse_member"], tiny_pdf()).get_json()
    claim = claim_with(world, a, [receipt["id"]])
    path = f"/claims/{claim['id']}/receipts/{receipt['id']}"
    for role in ("vcse_member", "vcse_admin", "approver", "finance", "partner_viewer"):
        assert world.api.get(path, a.tokens[role]).status_code == 200, role
    for role in ("vcse_member", "vcse_admin", "approver", "finance", "partner_viewer"):
        response = world.api.get(path, b.tokens[role])
        assert response.status_code == 404, role
        assert response.data != tiny_pdf()
    assert world.api.get(path, world.operator_token).status_code == 404
    assert world.api.get(path, None).status_code == 401
    # A receipt of the organisation that this claim does not carry: not reachable through it.
    other = upload(world, a.tokens["vcse_member"], png_with_text()).get_json()
    path_other = f"/claims/{claim['id']}/receipts/{other['id']}"
    assert world.api.get(path_other, a.tokens["approver"]).status_code == 404
    # Only VCSE people upload.
    assert upload(world, a.tokens["approver"], tiny_pdf()).status_code == 403


def test_erasure_removes_the_bytes_and_keeps_the_reference(
    world: World, receipt_storage: ReceiptStorage
) -> None:
    a = world.a
    receipt = upload(world, a.tokens["vcse_member"], jpeg_with_gps()).get_json()
    claim = claim_with(world, a, [receipt["id"]])
    with world.ledger.store.unit_of_work() as uow:
        assert world.ledger.erase_receipts_of_claim(uow, claim["id"]) == [receipt["id"]]
    assert receipt_storage.get(receipt_key(a.payee_id, receipt["id"])) is None
    gone = world.api.get(f"/claims/{claim['id']}/receipts/{receipt['id']}", a.tokens["approver"])
    assert gone.status_code == 410
    assert gone.mimetype == "application/problem+json"
    again = world.api.ok("GET", f"/claims/{claim['id']}", a.tokens["vcse_member"])
    assert again["expenses"][0]["receipts"][0]["sha256"] == receipt["id"]
    # An erased upload cannot be named by a new claim.
    body = world.claim_body(a, world.ledger.today())
    body["expenses"][0]["receipts"] = [receipt["id"]]
    assert world.api.post("/claims", a.tokens["vcse_member"], body).status_code == 422


def test_erasing_the_person_who_claimed_deletes_the_receipts_bytes(
    world: World, receipt_storage: ReceiptStorage
) -> None:
    """A person's erasure (bridges people erase) reaches the receipts of the claims it erases:
    the bytes go from the storage, the reference stays, the erasure says which went."""
    from services.ledger.people import erase_person

    a = world.a
    receipt = upload(world, a.tokens["vcse_member"], jpeg_with_gps()).get_json()
    claim = claim_with(world, a, [receipt["id"]])
    assert receipt_storage.get(receipt_key(a.payee_id, receipt["id"])) is not None

    erasure = erase_person(world.ledger, None, a.person_ids["vcse_member"])

    assert claim["id"] in erasure.claim_ids
    assert erasure.to_json()["receipts_erased"] == [receipt["id"]]
    assert receipt_storage.get(receipt_key(a.payee_id, receipt["id"])) is None
    gone = world.api.get(f"/claims/{claim['id']}/receipts/{receipt['id']}", a.tokens["approver"])
    assert gone.status_code == 410
    kept = world.api.ok("GET", f"/claims/{claim['id']}", a.tokens["approver"])
    assert kept["expenses"][0]["receipts"][0]["sha256"] == receipt["id"]


def test_an_idempotency_key_replays_the_same_file_and_refuses_another(world: World) -> None:
    token = world.a.tokens["vcse_member"]
    key = {"Idempotency-Key": "upload-1"}

    def send(content: bytes) -> Any:
        return world.api.call(
            "POST",
            "/receipts",
            token,
            data={"file": (io.BytesIO(content), "r.pdf", "application/pdf")},
            content_type="multipart/form-data",
            headers=key,
        )

    first = send(tiny_pdf())
    again = send(tiny_pdf())
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    other = send(png_with_text())
    assert other.status_code == 422
    assert other.get_json()["type"].endswith("idempotency-key-reused")


def test_bytes_missing_from_the_storage_are_a_503_not_an_erasure(
    world: World, storage: ReceiptStorage
) -> None:
    a = world.a
    receipt = upload(world, a.tokens["vcse_member"], tiny_pdf()).get_json()
    claim = claim_with(world, a, [receipt["id"]])
    storage.delete(receipt_key(a.payee_id, receipt["id"]))  # another instance's disk, say
    response = world.api.get(
        f"/claims/{claim['id']}/receipts/{receipt['id']}", a.tokens["approver"]
    )
    assert response.status_code == 503
    assert "BRIDGES_RECEIPTS_STORAGE" in response.get_json()["detail"]


def test_uploads_never_attached_are_purged_once_old_and_attached_ones_never(
    world: World, receipt_storage: ReceiptStorage, clock: MovableClock
) -> None:
    """`bridges receipts purge-unattached`: an upload no claim carried is deleted (bytes and
    row) once older than the limit; one on a claim, or a recent one, stays. On both storages."""
    from services.ledger.receipts.cleanup import purge_unattached
    from services.ledger.store.views import receipts

    a = world.a
    token = a.tokens["vcse_member"]
    on_claim = upload(world, token, jpeg_with_gps()).get_json()["id"]
    claim_with(world, a, [on_claim])
    abandoned = upload(world, token, tiny_pdf(), "left-on-the-form.pdf").get_json()["id"]
    clock.advance(3)
    recent = upload(world, token, png_with_text()).get_json()["id"]
    keys = {sha: receipt_key(a.payee_id, sha) for sha in (on_claim, abandoned, recent)}

    ledger = world.ledger
    listed = purge_unattached(ledger, timedelta(hours=48), dry_run=True)
    assert [r.sha256 for r in listed] == [abandoned]
    assert all(receipt_storage.get(key) is not None for key in keys.values())  # a dry run

    purged = purge_unattached(ledger, timedelta(hours=48))
    assert [(r.organisation_id, r.sha256) for r in purged] == [(a.payee_id, abandoned)]
    assert receipt_storage.get(keys[abandoned]) is None
    assert receipt_storage.get(keys[on_claim]) is not None
    assert receipt_storage.get(keys[recent]) is not None
    with ledger.reading() as uow:
        rows = {r.sha256 for r in uow.connection.execute(select(receipts.c.sha256)).all()}
    assert rows == {on_claim, recent}
    # The purged upload can no longer be named by a claim; the claim's own receipt still opens.
    body = world.claim_body(a, world.ledger.today())
    body["expenses"][0]["receipts"] = [abandoned]
    assert world.api.post("/claims", token, body).status_code == 422
    assert purge_unattached(ledger, timedelta(hours=48)) == []
    # Much later the recent one is abandoned too; the claim's never is.
    clock.advance(30)
    assert [r.sha256 for r in purge_unattached(ledger, timedelta(hours=48))] == [recent]
    assert receipt_storage.get(keys[on_claim]) is not None
    with pytest.raises(ValueError, match="positive"):
        purge_unattached(ledger, timedelta(0))


def world_on(
    database_url: str, storage: ReceiptStorage, clock: MovableClock, tmp_path: Path
) -> World:
    """A world on this database whose ledger keeps receipts in `storage`."""
    settings = LedgerSettings(database_url=database_url, var_dir=str(tmp_path))
    app = create_app(settings, clock=clock, testing=True, receipt_storage=storage)
    return build_world(
        ApiClient(app.test_client()), app.extensions["bridges.ledger"], clock.today()
    )


class _SubmittingWhileDeleting(LocalReceiptStorage):
    """Deletes as a directory does, and on each delete has a claim submitted and then looks
    for its events in the feed, as a reader would while the purge runs."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.during_delete: Any = None
        self.seen: list[bool] = []

    def delete(self, key: str) -> None:
        super().delete(key)
        if self.during_delete is not None:
            self.seen.append(self.during_delete())


def test_a_purge_holds_back_no_reader_of_the_feed_while_the_storage_deletes(
    postgres_url: str, clock: MovableClock, tmp_path: Path
) -> None:
    """PostgreSQL: the purge deletes the bytes while its transaction has only read, so a claim
    committed meanwhile is in the feed at once (a transaction that has written holds the
    feed's horizon until it commits)."""
    from services.ledger.receipts.cleanup import purge_unattached

    storage = _SubmittingWhileDeleting(tmp_path / "receipts")
    world = world_on(postgres_url, storage, clock, tmp_path)
    a = world.a
    token = a.tokens["vcse_member"]
    for content in (tiny_pdf(), png_with_text(), jpeg_with_gps()):
        assert upload(world, token, content).status_code == 201
    clock.advance(3)
    ledger = world.ledger

    def submit_and_read() -> bool:
        before = ledger.store.last_position()
        claim = world.submit(a, clock.today() - timedelta(days=1))
        return any(e.stream_id.endswith(claim["id"]) for e in ledger.store.read_feed(before, 50))

    storage.during_delete = submit_and_read
    assert len(purge_unattached(ledger, timedelta(hours=48))) == 3
    assert storage.seen == [True, True, True]


class _FailingOnce(LocalReceiptStorage):
    """A storage whose first delete fails (the S3 endpoint away for a moment)."""

    failed = False

    def delete(self, key: str) -> None:
        if not self.failed:
            self.failed = True
            raise ConnectionError("storage unreachable")
        super().delete(key)


def test_a_purge_that_fails_half_way_leaves_the_upload_unattachable_and_is_finished_later(
    clock: MovableClock, tmp_path: Path, sqlite_url: str
) -> None:
    from services.ledger.receipts.cleanup import purge_unattached
    from services.ledger.store.views import receipts

    storage = _FailingOnce(tmp_path / "receipts")
    world = world_on(sqlite_url, storage, clock, tmp_path)
    a = world.a
    abandoned = upload(world, a.tokens["vcse_member"], tiny_pdf()).get_json()["id"]
    clock.advance(3)
    with pytest.raises(ConnectionError):
        purge_unattached(world.ledger, timedelta(hours=48))
    assert storage.get(receipt_key(a.payee_id, abandoned)) is not None
    body = world.claim_body(a, world.ledger.today())
    body["expenses"][0]["receipts"] = [abandoned]
    assert world.api.post("/claims", a.tokens["vcse_member"], body).status_code == 422

    purged = purge_unattached(world.ledger, timedelta(hours=48))
    assert [r.sha256 for r in purged] == [abandoned]
    assert storage.get(receipt_key(a.payee_id, abandoned)) is None
    with world.ledger.reading() as uow:
        assert uow.connection.execute(select(receipts.c.sha256)).all() == []
