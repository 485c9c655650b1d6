"""The project's objects in the platform's project data bucket: everything under
``<prefix>/`` (datasets, pipeline outputs, model artifacts). ``OnDelete=delete-all``
removes them; ``retain-data`` keeps them.

The bucket is versioned (``portfolio.buckets``), so removing an object means removing
every version and delete marker of its key: the listing is ListObjectVersions (which also
lists an unversioned bucket's objects, with the version ``null``), walked a page at a time,
each page deleted with one DeleteObjects call (at most 1,000 keys, the call's limit). A
retried Delete lists what is left and converges; a missing bucket has nothing to remove.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from lambda_project_lifecycle.aws_calls import call
from lambda_project_lifecycle.custom_resource import Checkpoint, no_checkpoint
from lambda_project_lifecycle.errors import AwsCallError, LifecycleError
from lambda_project_lifecycle.naming import ProjectNames

logger = logging.getLogger(__name__)

DELETE_OBJECTS_LIMIT = 1000  # keys per DeleteObjects call


class ProjectDataError(LifecycleError):
    """Some of the project's objects could not be deleted."""


def data_prefix(names: ProjectNames) -> str:
    """``<prefix>/``: the trailing slash keeps ``sagemaker-a-p-1`` from matching ``-p-12``."""
    return f"{names.prefix}/"


def remove_project_data(
    s3: Any,
    bucket: str,
    names: ProjectNames,
    *,
    checkpoint: Checkpoint = no_checkpoint,
) -> int:
    """Delete every version and delete marker under the project's prefix; how many."""
    if not bucket:
        return 0
    prefix = data_prefix(names)
    deleted = 0
    for batch in _version_batches(s3, bucket, prefix):
        checkpoint(f"deleting {len(batch)} objects under s3://{bucket}/{prefix}")
        reply = call(
            f"Deleting objects under s3://{bucket}/{prefix}",
            s3.delete_objects,
            Bucket=bucket,
            Delete={"Objects": batch, "Quiet": True},
        )
        errors = reply.get("Errors", [])
        if errors:
            first = errors[0]
            raise ProjectDataError(
                f"{len(errors)} of {len(batch)} objects under s3://{bucket}/{prefix} could not "
                f"be deleted; the first, {first.get('Key')} (version {first.get('VersionId')}): "
                f"{first.get('Code')}: {first.get('Message', '')}"
            )
        deleted += len(batch)
    logger.info("Deleted %d object versions under s3://%s/%s", deleted, bucket, prefix)
    return deleted


def _version_batches(s3: Any, bucket: str, prefix: str) -> Iterator[list[dict[str, str]]]:
    """The first (at most 1,000) versions and delete markers left under ``prefix``, as
    DeleteObjects entries, listed again once the caller deleted them: no marker points at
    a deleted key. An entry listed again after its delete is an error, not a loop."""
    previous: set[tuple[str, str]] = set()
    while True:
        try:
            page = call(
                f"Listing objects under s3://{bucket}/{prefix}",
                s3.list_object_versions,
                Bucket=bucket,
                Prefix=prefix,
                MaxKeys=DELETE_OBJECTS_LIMIT,
            )
        except AwsCallError as exc:
            if exc.code == "NoSuchBucket":
                logger.info("Bucket %s does not exist: no project data to delete", bucket)
                return
            raise
        entries = [
            {"Key": item["Key"], "VersionId": item["VersionId"]}
            for item in (*page.get("Versions", []), *page.get("DeleteMarkers", []))
        ]
        if not entries:
            return
        listed = {(e["Key"], e["VersionId"]) for e in entries}
        if listed & previous:
            key, version = sorted(listed & previous)[0]
            raise ProjectDataError(
                f"s3://{bucket}/{key} (version {version}) is still there after it was deleted"
            )
        previous = listed
        yield entries
