"""The HTTP layer for git pushes and provider REST calls: one urllib3 pool manager.

Created here unless the caller injects one (``AwsClients(http=...)``): TLS
verified, short connect timeout, no automatic retry of requests that may already
have made something.
"""

from __future__ import annotations

from typing import Any

from lambda_project_lifecycle import __version__

CONNECT_TIMEOUT_SECONDS = 5.0
READ_TIMEOUT_SECONDS = 60.0


def user_agent() -> str:
    """Git hosts expect a ``git/`` user agent on smart-HTTP requests."""
    from dulwich import __version__ as dulwich_version

    version = ".".join(str(part) for part in dulwich_version)
    return f"git/dulwich/{version} mlops-portfolio/{__version__}"


def new_pool_manager() -> Any:
    import urllib3

    return urllib3.PoolManager(
        headers={"User-Agent": user_agent()},
        timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT_SECONDS, read=READ_TIMEOUT_SECONDS),
        retries=urllib3.Retry(total=3, connect=2, read=0, status=0, redirect=3, backoff_factor=0.2),
        cert_reqs="CERT_REQUIRED",
    )
