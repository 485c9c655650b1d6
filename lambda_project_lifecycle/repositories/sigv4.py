"""Git-over-HTTPS credentials derived from AWS credentials (SigV4), as ``git-remote-codecommit``.

CodeCommit and the CodeConnections git-http endpoint accept basic auth where
the user name is the access key id (``%`` and the session token appended for
temporary credentials) and the password is ``<timestamp>Z<signature>``: a
SigV4 signature, for service ``codecommit``, of the canonical request

    GIT
    <path of the repository>

    host:<host name>

    host
    <empty payload hash>

So the Lambda pushes with its own role's credentials; nobody hands it a password.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

SERVICE = "codecommit"
ALGORITHM = "AWS4-HMAC-SHA256"


@dataclass(frozen=True)
class AwsCredentials:
    access_key: str
    secret_key: str
    token: str | None = None


def git_username(credentials: AwsCredentials) -> str:
    return credentials.access_key + (f"%{credentials.token}" if credentials.token else "")


def git_password(
    credentials: AwsCredentials, *, host: str, path: str, region: str, when: datetime | None = None
) -> str:
    """``<YYYYMMDDTHHMMSS>Z<hex signature>`` for a git request to ``https://<host><path>``."""
    moment = (when or datetime.now(UTC)).astimezone(UTC)
    timestamp = moment.strftime("%Y%m%dT%H%M%S")
    day = moment.strftime("%Y%m%d")
    canonical_request = f"GIT\n{path}\n\nhost:{host}\n\nhost\n"
    scope = f"{day}/{region}/{SERVICE}/aws4_request"
    string_to_sign = "\n".join(
        (ALGORITHM, timestamp, scope, hashlib.sha256(canonical_request.encode()).hexdigest())
    )
    key = signing_key(credentials.secret_key, day, region)
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return f"{timestamp}Z{signature}"


def signing_key(secret_key: str, day: str, region: str) -> bytes:
    key = f"AWS4{secret_key}".encode()
    for part in (day, region, SERVICE, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key
