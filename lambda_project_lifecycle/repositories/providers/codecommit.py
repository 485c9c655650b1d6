"""CodeCommit: the repository is made through the API and pushed to with SigV4 credentials."""

from __future__ import annotations

import logging
from typing import Any

from lambda_project_lifecycle.aws_calls import call, call_unless
from lambda_project_lifecycle.naming import PROJECT_ID_TAG
from lambda_project_lifecycle.repositories.errors import RepositoryError
from lambda_project_lifecycle.repositories.providers.base import (
    DELETED_TAG,
    Repository,
    RepositoryContext,
    description,
)

logger = logging.getLogger(__name__)


class CodeCommitRepositories:
    manages_repositories = True

    def __init__(self, context: RepositoryContext) -> None:
        self._context = context
        self._name = context.settings.name

    @property
    def _codecommit(self) -> Any:
        return self._context.clients.client("codecommit")

    def prepare(self) -> None:
        return None

    def ensure(self) -> Repository:
        spec = self._context.spec
        reply = call_unless(
            frozenset({"RepositoryNameExistsException"}),
            f"Creating CodeCommit repository {self._name}",
            self._codecommit.create_repository,
            repositoryName=self._name,
            repositoryDescription=description(spec),
            tags={tag["Key"]: tag["Value"] for tag in spec.tags},
        )
        if reply is not None:
            logger.info("Created CodeCommit repository %s", self._name)
            return self._repository(reply["repositoryMetadata"], ours=True, created_now=True)
        found = self.find()
        if found is None:
            raise RepositoryError(
                f"CodeCommit repository {self._name} was deleted while the project was created"
            )
        return found

    def find(self) -> Repository | None:
        reply = call_unless(
            frozenset({"RepositoryDoesNotExistException"}),
            f"Reading CodeCommit repository {self._name}",
            self._codecommit.get_repository,
            repositoryName=self._name,
        )
        if reply is None:
            return None
        metadata = reply["repositoryMetadata"]
        tags = self._tags(metadata["Arn"])
        return self._repository(
            metadata, ours=tags.get(PROJECT_ID_TAG) == self._context.spec.project_id
        )

    def delete(self, repository: Repository) -> bool:
        call(
            f"Deleting CodeCommit repository {repository.name}",
            self._codecommit.delete_repository,
            repositoryName=repository.name,
        )
        logger.info("Deleted CodeCommit repository %s", repository.name)
        return True

    def mark_deleted(self, repository: Repository) -> bool:
        call(
            f"Tagging CodeCommit repository {repository.name}",
            self._codecommit.tag_resource,
            resourceArn=repository.handle["arn"],
            tags={DELETED_TAG: self._context.now().strftime("%Y-%m-%dT%H:%M:%SZ")},
        )
        return True

    def _tags(self, arn: str) -> dict[str, str]:
        reply = call(
            f"Reading tags of CodeCommit repository {self._name}",
            self._codecommit.list_tags_for_resource,
            resourceArn=arn,
        )
        return dict(reply.get("tags", {}))

    def _repository(
        self, metadata: dict[str, Any], *, ours: bool, created_now: bool = False
    ) -> Repository:
        clone_url = metadata["cloneUrlHttp"]
        endpoint = self._context.signed_endpoint(
            clone_url, region=self._context.region, credentials_from="the Lambda role (SigV4)"
        )
        return Repository(
            provider="codecommit",
            name=metadata["repositoryName"],
            clone_url=clone_url,
            endpoint=endpoint,
            ours=ours,
            created_now=created_now,
            web_url=(
                f"https://{self._context.region}.console.aws.amazon.com/codesuite/codecommit/"
                f"repositories/{metadata['repositoryName']}/browse"
            ),
            source_type="CODECOMMIT",
            handle={"arn": metadata["Arn"], "id": metadata.get("repositoryId", "")},
        )
