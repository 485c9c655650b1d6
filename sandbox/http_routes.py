"""Send requests for public hosts to servers on 127.0.0.1, through an injected pool manager.

The product code talks to ``https://git-codecommit.us-east-1.amazonaws.com/...``
or ``https://codestar-connections.<region>.amazonaws.com/git-http/...`` as on
AWS; the pool manager given to it in tests connects to a local server instead,
keeps the original ``Host`` header (which the server checks, like the signature
does) and reports the original URL back, so nothing above the HTTP layer sees
a difference.
"""

from __future__ import annotations

from typing import Any

import urllib3
from urllib3.util import parse_url


class RoutingPoolManager(urllib3.PoolManager):
    def __init__(self, routes: dict[str, int] | None = None, **kwargs: Any) -> None:
        super().__init__(
            retries=urllib3.Retry(total=2, connect=1, read=0, status=0, redirect=3),
            timeout=urllib3.Timeout(connect=2.0, read=30.0),
            **kwargs,
        )
        self.routes: dict[str, int] = dict(routes or {})  # public host -> port on 127.0.0.1
        self.seen: list[tuple[str, str]] = []  # (method, original URL)

    def route(self, host: str, port: int) -> None:
        self.routes[host] = port

    def urlopen(  # type: ignore[override]
        self, method: str, url: str, redirect: bool = True, **kw: Any
    ) -> Any:
        self.seen.append((method, url))
        parts = parse_url(url)
        port = self.routes.get(parts.host or "")
        if port is None:
            return super().urlopen(method, url, redirect=redirect, **kw)
        local = parts._replace(scheme="http", host="127.0.0.1", port=port).url
        headers = dict(kw.pop("headers", None) or self.headers)
        headers["Host"] = parts.host or ""
        response = super().urlopen(method, local, redirect=redirect, headers=headers, **kw)
        response.url = url
        return response
