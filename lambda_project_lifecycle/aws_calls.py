"""Calling AWS from the handlers: every ClientError wrapped once, with what we did.

``call`` raises :class:`AwsCallError` naming the action; ``call_unless`` answers
None for the error codes a step expects (what is already gone, what exists
already); ``pages`` walks a ``NextToken``-paginated list call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from botocore.exceptions import ClientError

from lambda_project_lifecycle.errors import AwsCallError, error_code


def call(action: str, method: Callable[..., Any], **kwargs: Any) -> Any:
    try:
        return method(**kwargs)
    except ClientError as exc:
        raise AwsCallError(action, exc) from exc


def pages(action: str, method: Callable[..., Any], **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every page of a ``NextToken``-paginated list call, each through :func:`call`."""
    while True:
        page = call(action, method, **kwargs)
        yield page
        if not page.get("NextToken"):
            return
        kwargs["NextToken"] = page["NextToken"]


def call_unless(
    codes: frozenset[str], action: str, method: Callable[..., Any], **kwargs: Any
) -> Any:
    """Like :func:`call`, but None when the service answers one of ``codes``.

    For idempotent steps: deleting what is already gone, describing what may not
    exist (SageMaker answers ValidationException for a missing model, config or endpoint).
    """
    try:
        return method(**kwargs)
    except ClientError as exc:
        if error_code(exc) in codes:
            return None
        raise AwsCallError(action, exc) from exc


# What SageMaker answers for a model, config, endpoint or package that does not exist.
MISSING = frozenset({"ValidationException", "ResourceNotFound", "ResourceNotFoundException"})
