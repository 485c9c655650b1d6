"""Artifacts into the artifacts bucket, under the content-addressed keys of the manifest.

Every request names the account that must own the bucket (S3's expected-bucket-owner
condition), so nothing is read from or written to a bucket of someone else; an object
already there with the same sha256 (its ``sha256`` metadata) is not uploaded again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from portfolio_build.errors import PublishError
from portfolio_build.release import Artifact

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
else:
    S3Client = Any

SHA256_METADATA = "sha256"
CONTENT_TYPES = {
    ".json": "application/json",
    ".zip": "application/zip",
    ".yaml": "application/yaml",
}


@dataclass(frozen=True)
class Bucket:
    s3: S3Client
    name: str
    owner: str  # the account id that must own it
    region: str

    def check_owner(self) -> None:
        """AccessDenied here means the bucket is another account's (or not reachable)."""
        try:
            self.s3.head_bucket(Bucket=self.name, ExpectedBucketOwner=self.owner)
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code in ("403", "AccessDenied", "Forbidden"):
                raise PublishError(
                    f"{self.region}: artifacts bucket {self.name} is not owned by account "
                    f"{self.owner} (S3 expected-bucket-owner check): nothing is uploaded to it. "
                    "Is the bootstrap stack's bucket someone else's now?"
                ) from None
            raise

    def stored_sha256(self, key: str) -> str | None:
        try:
            head = self.s3.head_object(Bucket=self.name, Key=key, ExpectedBucketOwner=self.owner)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return str(head.get("Metadata", {}).get(SHA256_METADATA, "")) or None

    def put(
        self, key: str, body: bytes, sha256: str, content_type: str, tagging: str | None = None
    ) -> None:
        options: dict[str, Any] = {}
        if tagging:
            options["Tagging"] = tagging
        self.s3.put_object(
            Bucket=self.name,
            Key=key,
            Body=body,
            ContentType=content_type,
            Metadata={SHA256_METADATA: sha256},
            ExpectedBucketOwner=self.owner,
            **options,
        )

    def url(self, key: str, url_suffix: str) -> str:
        return f"https://{self.name}.s3.{self.region}.{url_suffix}/{key}"


def missing(bucket: Bucket | None, artifacts: list[Artifact]) -> list[Artifact]:
    """The artifacts not yet in the bucket with their sha256 (all of them: no bucket yet)."""
    if bucket is None:
        return list(artifacts)
    return [a for a in artifacts if bucket.stored_sha256(a.key) != a.sha256]


def upload(bucket: Bucket, artifacts: list[Artifact]) -> None:
    for artifact in artifacts:
        bucket.put(
            artifact.key,
            artifact.path.read_bytes(),
            artifact.sha256,
            CONTENT_TYPES.get(artifact.path.suffix, "application/octet-stream"),
        )
