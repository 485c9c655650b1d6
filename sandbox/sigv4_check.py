"""The server side of CodeCommit-style git credentials: check a SigV4-derived password.

Written with botocore's own SigV4 signer (as ``git-remote-codecommit`` and the
AWS CLI credential helper do), so it checks the product's independent
implementation rather than repeating it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from sandbox.git_server import Authenticator, GitRequest, split_service

MAX_SKEW = timedelta(minutes=15)


def expected_password(
    secret_key: str, access_key: str, host: str, path: str, region: str, timestamp: str
) -> str:
    signer = SigV4Auth(Credentials(access_key, secret_key), "codecommit", region)
    request = AWSRequest(method="GIT", url=f"https://{host}{path}")
    request.context["timestamp"] = timestamp
    canonical = f"GIT\n{path}\n\nhost:{host}\n\nhost\n"
    return f"{timestamp}Z{signer.signature(signer.string_to_sign(request, canonical), request)}"


def sigv4_auth(
    *, access_key: str, secret_key: str, region: str, hosts: tuple[str, ...]
) -> Authenticator:
    """Accept only the password SigV4 derives now for ``https://<host><repository path>``."""

    def check(request: GitRequest) -> bool:
        user = request.username.split("%", 1)[0]
        split = split_service(request.path)
        # Clients sign the host name: CodeCommit's endpoint has no port, a local one has.
        host = request.host.rsplit(":", 1)[0] if request.host.count(":") == 1 else request.host
        if user != access_key or host not in hosts or split is None:
            return False
        repository_path = split[0]
        timestamp = request.password.split("Z", 1)[0]
        try:
            signed_at = datetime.strptime(timestamp, "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
        except ValueError:
            return False
        if abs(datetime.now(UTC) - signed_at) > MAX_SKEW:
            return False
        wanted = expected_password(secret_key, access_key, host, repository_path, region, timestamp)
        return request.password == wanted

    return check
