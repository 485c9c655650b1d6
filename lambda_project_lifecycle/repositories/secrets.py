"""Git and REST credentials from a Secrets Manager secret.

The secret is a JSON object. ``Token`` is the access token (or the password of
a plain git URL); ``Username`` is optional for tokens and required for a plain
git URL. The format is CodeBuild's (``ServerType``, ``AuthType`` and ``Token``),
so one secret also serves as the training project's source credential.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from lambda_project_lifecycle.errors import error_code
from lambda_project_lifecycle.repositories.errors import RepositoryAccessError
from lambda_project_lifecycle.repositories.settings import SECRET


@dataclass(frozen=True)
class SecretCredentials:
    token: str = field(repr=False)
    username: str = ""
    source: str = ""  # "RepositorySecretArn <arn>", for messages


def read_credentials(secretsmanager: Any, arn: str, *, need_username: bool) -> SecretCredentials:
    source = f"{SECRET} {arn}"
    try:
        reply = secretsmanager.get_secret_value(SecretId=arn)
    except ClientError as exc:
        code = error_code(exc)
        if code == "ResourceNotFoundException":
            raise RepositoryAccessError(f"{source}: no such secret") from exc
        raise RepositoryAccessError(
            f"{source} could not be read: {code}: "
            f"{exc.response.get('Error', {}).get('Message', '')}"
        ) from exc
    text = reply.get("SecretString")
    if not text:
        raise RepositoryAccessError(f"{source} holds no text (binary secrets are not supported)")
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise RepositoryAccessError(
            f"{source} must hold a JSON object with Token (and Username); it does not"
        )
    values = {str(key).lower(): value for key, value in document.items()}
    token, username = values.get("token"), values.get("username", "")
    if not isinstance(token, str) or not token:
        raise RepositoryAccessError(f"{source} has no Token")
    if not isinstance(username, str) or (need_username and not username):
        raise RepositoryAccessError(f"{source} has no Username (required for a git URL)")
    return SecretCredentials(token=token, username=username, source=source)
