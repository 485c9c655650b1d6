"""Git and REST credentials from a Secrets Manager secret, bound to the hosts they are for.

The secret is a JSON object. ``Token`` is the access token (or the password of
a plain git URL); ``Username`` is optional for tokens and required for a plain
git URL. ``Hosts`` lists the hosts the token may be sent to (a list, or one
comma-separated string; ``host`` or ``host:port``): the Lambda refuses to send
it anywhere else, whatever ``ProviderApiUrl`` or ``RepositoryUrl`` a project
names, and whatever clone URL a provider's API answers with. CodeBuild's own
format (``ServerType``, ``AuthType`` and ``Token``) also works, so one secret
also serves as the training project's source credential: without ``Hosts``,
its ``ServerType`` GITHUB, GITLAB or BITBUCKET binds the token to that cloud
service's hosts. A secret that names no host is refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import ClientError

from lambda_project_lifecycle.errors import error_code
from lambda_project_lifecycle.repositories.errors import RepositoryAccessError
from lambda_project_lifecycle.resource_properties import SECRET

HOSTS_KEY = "Hosts"
# CodeBuild's ServerType of a cloud service -> the hosts its tokens are for.
SERVER_TYPE_HOSTS = {
    "GITHUB": ("github.com", "api.github.com"),
    "GITLAB": ("gitlab.com",),
    "BITBUCKET": ("bitbucket.org", "api.bitbucket.org"),
}
DEFAULT_PORTS = {"https": 443, "http": 80}


@dataclass(frozen=True)
class SecretCredentials:
    token: str = field(repr=False)
    username: str = ""
    source: str = ""  # "RepositorySecretArn <arn>", for messages
    hosts: tuple[str, ...] = ()  # where the token may go: "host" or "host:port", lower case

    def check_host(self, what: str, url: str) -> None:
        """Refuse to send the token to ``url`` unless its host is one the secret names."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port or DEFAULT_PORTS.get(parts.scheme)
        for allowed in self.hosts:
            name, _, allowed_port = allowed.partition(":")
            if name == host and (not allowed_port or allowed_port == str(port)):
                return
        raise RepositoryAccessError(
            f"{self.source} may be sent only to {', '.join(self.hosts)}; {what} is on "
            f"{host or 'no host'}: name that host in the secret's {HOSTS_KEY} (a platform "
            "engineer's decision), or use a secret meant for it"
        )


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
    return SecretCredentials(
        token=token, username=username, source=source, hosts=_hosts(values, source)
    )


def _hosts(values: dict[str, Any], source: str) -> tuple[str, ...]:
    named = values.get(HOSTS_KEY.lower())
    if named is None:
        hosts = SERVER_TYPE_HOSTS.get(str(values.get("servertype", "")).upper(), ())
    elif isinstance(named, str):
        hosts = tuple(part for part in named.split(","))
    elif isinstance(named, list) and all(isinstance(item, str) for item in named):
        hosts = tuple(named)
    else:
        raise RepositoryAccessError(
            f"{source}: {HOSTS_KEY} must be a list of host names (or one comma-separated string)"
        )
    hosts = tuple(host.strip().lower() for host in hosts if host.strip())
    if not hosts:
        raise RepositoryAccessError(
            f'{source} names no host its token is for: add "{HOSTS_KEY}": ["<host>", ...] '
            "(e.g. github.com and api.github.com), or use CodeBuild's format with ServerType "
            f"{', '.join(SERVER_TYPE_HOSTS)}"
        )
    for host in hosts:
        if "/" in host or "@" in host or not host.partition(":")[0]:
            raise RepositoryAccessError(
                f"{source}: {HOSTS_KEY} holds {host!r}; list host names (or host:port), not URLs"
            )
    return hosts
