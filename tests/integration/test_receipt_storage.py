"""The receipt storage contract, on each storage: a directory and a bucket on the local
S3-compatible server (deploy/local/s3.sh)."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest

from services.ledger.receipts.storage import (
    LocalReceiptStorage,
    ReceiptStorage,
    receipt_key,
    storage_from_settings,
)
from shared.settings import LedgerSettings


def test_put_get_delete(receipt_storage: ReceiptStorage) -> None:
    content = b"%PDF-1.4 a receipt %%EOF"
    key = receipt_key(str(uuid.uuid4()), hashlib.sha256(content).hexdigest())
    assert receipt_storage.get(key) is None
    receipt_storage.put(key, content, "application/pdf")
    receipt_storage.put(key, content, "application/pdf")  # the same file again: no error
    assert receipt_storage.get(key) == content
    receipt_storage.delete(key)
    assert receipt_storage.get(key) is None
    receipt_storage.delete(key)  # deleting what is not there is not an error


def test_keys_are_checked(receipt_storage: ReceiptStorage) -> None:
    for bad in ("../../etc/passwd", "org/" + "a" * 63, "a/b/" + "a" * 64):
        with pytest.raises(ValueError, match="not a receipt key"):
            receipt_storage.get(bad)


def test_the_settings_choose_the_storage(tmp_path: Path) -> None:
    local = storage_from_settings(LedgerSettings(var_dir=str(tmp_path)))
    assert isinstance(local, LocalReceiptStorage) and local.root == tmp_path / "receipts"
    with pytest.raises(ValueError, match="BRIDGES_RECEIPTS_S3_BUCKET"):
        storage_from_settings(LedgerSettings(receipts_storage="s3"))
    with pytest.raises(ValueError, match="local or s3"):
        storage_from_settings(LedgerSettings(receipts_storage="tape"))
