"""CodeCommit repository tags on the emulator's endpoint (moto drops them and lacks the API).

:class:`CodeCommitTags` keeps the ``tags`` of CreateRepository per repository ARN and
answers ListTagsForResource, TagResource and UntagResource from them, with
CodeCommit's ``RepositoryDoesNotExistException`` for a repository moto does not hold;
a deleted repository's tags go with it. The lifecycle handler reads them before it
deletes a repository (it deletes only what it made).
"""

from __future__ import annotations

import threading
from typing import Any

from sandbox.emulator import AwsError, Call, Emulator


class CodeCommitTags:
    def __init__(self, emulator: Emulator) -> None:
        self._tags: dict[str, dict[str, str]] = {}  # repository ARN -> tags
        self._lock = threading.Lock()
        why = "moto drops repository tags and lacks the tagging API: kept and answered here"
        emulator.after("codecommit", "CreateRepository", why)(self._created)
        emulator.after("codecommit", "DeleteRepository", why)(self._deleted)
        emulator.answer("codecommit", "ListTagsForResource", why)(self._list)
        emulator.answer("codecommit", "TagResource", why)(self._tag)
        emulator.answer("codecommit", "UntagResource", why)(self._untag)
        emulator.on_stop(self._tags.clear)

    def _created(self, call: Call, answer: dict[str, Any]) -> None:
        metadata = answer.get("repositoryMetadata") or {}
        if "Arn" in metadata:
            with self._lock:
                self._tags[metadata["Arn"]] = dict(call.params.get("tags") or {})

    def _deleted(self, call: Call, answer: dict[str, Any]) -> None:
        known = {r.repository_metadata["Arn"] for r in call.backend().repositories.values()}
        with self._lock:
            for arn in [arn for arn in self._tags if arn not in known]:
                del self._tags[arn]

    def _existing(self, call: Call) -> str:
        arn = str(call.params["resourceArn"])
        name = arn.rsplit(":", 1)[-1]
        if name not in call.backend().repositories:
            raise AwsError("RepositoryDoesNotExistException", f"{name} does not exist")
        return arn

    def _list(self, call: Call) -> dict[str, Any]:
        arn = self._existing(call)
        with self._lock:
            return {"tags": dict(self._tags.get(arn, {}))}

    def _tag(self, call: Call) -> dict[str, Any]:
        arn = self._existing(call)
        with self._lock:
            self._tags.setdefault(arn, {}).update(call.params.get("tags") or {})
        return {}

    def _untag(self, call: Call) -> dict[str, Any]:
        arn = self._existing(call)
        with self._lock:
            for key in call.params.get("tagKeys") or []:
                self._tags.get(arn, {}).pop(key, None)
        return {}
