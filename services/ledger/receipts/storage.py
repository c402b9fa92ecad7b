"""Where receipts' bytes live, behind one small interface: the local filesystem by default
(under the var dir), S3-compatible object storage in production.

Keys are `<organisation id>/<sha256>`: content-addressed within the VCSE organisation that
uploaded the file, so the same photo uploaded twice is stored once, and erasing one
organisation's receipt never touches another's."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any, Protocol

from shared.settings import LedgerSettings

_KEY = re.compile(r"[0-9a-f-]{1,36}/[0-9a-f]{64}")


class ReceiptStorage(Protocol):
    """Put, get and delete a receipt's bytes by key."""

    def put(self, key: str, content: bytes, media_type: str) -> None: ...

    def get(self, key: str) -> bytes | None:
        """The bytes, or None when there are none (never stored, or erased)."""
        ...

    def delete(self, key: str) -> None:
        """Remove the bytes; deleting what is not there is not an error."""
        ...


def receipt_key(organisation_id: str, sha256: str) -> str:
    key = f"{organisation_id}/{sha256}"
    if not _KEY.fullmatch(key):
        raise ValueError(f"not a receipt key: {key!r}")
    return key


class LocalReceiptStorage:
    """Files under a directory, written atomically (a temporary file, then a rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        organisation_id, sha256 = receipt_key(*key.split("/", 1)).split("/")
        return self.root / organisation_id / sha256

    def put(self, key: str, content: bytes, media_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class S3ReceiptStorage:
    """Objects in one bucket of an S3-compatible service (boto3; credentials from boto3's
    usual chain: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile, or an instance role)."""

    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    @classmethod
    def connect(cls, bucket: str, endpoint_url: str | None, region: str | None) -> S3ReceiptStorage:
        import boto3
        from botocore.config import Config

        client = boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region or None,
            config=Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5),
        )
        return cls(client, bucket)

    def put(self, key: str, content: bytes, media_type: str) -> None:
        receipt_key(*key.split("/", 1))
        self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=content,
            ContentType=media_type,
        )

    def get(self, key: str) -> bytes | None:
        receipt_key(*key.split("/", 1))
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.NoSuchKey:
            return None
        body: bytes = response["Body"].read()
        return body

    def delete(self, key: str) -> None:
        receipt_key(*key.split("/", 1))
        self.client.delete_object(Bucket=self.bucket, Key=key)


def storage_from_settings(settings: LedgerSettings) -> ReceiptStorage:
    """The storage the settings name (`BRIDGES_RECEIPTS_STORAGE`: local or s3)."""
    if settings.receipts_storage == "s3":
        if not settings.receipts_s3_bucket:
            raise ValueError("BRIDGES_RECEIPTS_S3_BUCKET must be set when receipts are kept in S3")
        return S3ReceiptStorage.connect(
            settings.receipts_s3_bucket,
            settings.receipts_s3_endpoint_url,
            settings.receipts_s3_region,
        )
    if settings.receipts_storage != "local":
        raise ValueError(
            f"BRIDGES_RECEIPTS_STORAGE must be local or s3, not {settings.receipts_storage!r}"
        )
    root = settings.receipts_dir or str(Path(settings.var_dir) / "receipts")
    return LocalReceiptStorage(Path(root))
