"""CodeCommit repository tags on the emulator's endpoint (moto drops them and serves none).

moto's CreateRepository drops ``tags`` and it has no ListTagsForResource, TagResource or
UntagResource; the lifecycle reads a repository's tags before it deletes it (only a
repository it made, tagged with the project's id, is deleted). :class:`CodeCommitTags`
keeps the tags of CreateRepository and answers the three operations from them, per region
and account, with CodeCommit's ``RepositoryDoesNotExistException`` for a repository that is
not there; a repository deleted loses its tags.
"""

from __future__ import annotations

import threading
from typing import Any

from sandbox.emulator import AwsError, Call, Emulator

WHY = "not implemented by moto: answered from the tags kept since CreateRepository"


class CodeCommitTags:
    """Repository tags by ARN, kept while ``emulator`` runs."""

    def __init__(self, emulator: Emulator) -> None:
        self.tags: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()
        emulator.after("codecommit", "CreateRepository", "tags dropped: kept here")(self._created)
        emulator.after("codecommit", "DeleteRepository", "the deleted repository's tags go")(
            self._deleted
        )
        emulator.answer("codecommit", "ListTagsForResource", WHY)(self._list)
        emulator.answer("codecommit", "TagResource", WHY)(self._tag)
        emulator.answer("codecommit", "UntagResource", WHY)(self._untag)

    def _created(self, call: Call, answer: dict[str, Any]) -> None:
        arn = (answer.get("repositoryMetadata") or {}).get("Arn")
        if arn:
            with self._lock:
                self.tags[arn] = dict(call.params.get("tags") or {})

    def _deleted(self, call: Call, answer: dict[str, Any]) -> None:
        known = {r.repository_metadata["Arn"] for r in call.backend().repositories.values()}
        with self._lock:
            for arn in [arn for arn in self.tags if arn.split(":")[3] == call.region]:
                if arn not in known:
                    del self.tags[arn]

    def _existing(self, call: Call) -> str:
        arn = str(call.params["resourceArn"])
        name = arn.rsplit(":", 1)[-1]
        if name not in call.backend().repositories:
            raise AwsError("RepositoryDoesNotExistException", f"{name} does not exist")
        return arn

    def _list(self, call: Call) -> dict[str, Any]:
        arn = self._existing(call)
        with self._lock:
            return {"tags": dict(self.tags.get(arn, {}))}

    def _tag(self, call: Call) -> dict[str, Any]:
        arn = self._existing(call)
        with self._lock:
            self.tags.setdefault(arn, {}).update(call.params["tags"])
        return {}

    def _untag(self, call: Call) -> dict[str, Any]:
        arn = self._existing(call)
        with self._lock:
            for key in call.params["tagKeys"]:
                self.tags.get(arn, {}).pop(key, None)
        return {}
