"""Stand-ins for what CloudFormation does around a custom resource.

:class:`ResponseListener` is a real HTTP server on 127.0.0.1 that plays the
pre-signed S3 URL a custom resource answers to; :class:`LambdaContext` plays
the Lambda context with a real deadline.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class ResponseListener:
    """Collects the PUT requests CloudFormation would receive."""

    def __init__(self) -> None:
        self.answers: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.paths: list[str] = []  # the URL path each answer was sent to
        self.refused = 0
        self._to_refuse = 0
        self._arrived = threading.Condition()
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if listener._to_refuse:
                    listener._to_refuse -= 1
                    listener.refused += 1
                    self.send_response(503)
                    self.end_headers()
                    return
                try:
                    answer = json.loads(body)
                except ValueError:
                    answer = {"__unreadable__": body.decode("utf-8", errors="replace")}
                with listener._arrived:
                    listener.answers.append(answer)
                    listener.headers.append(dict(self.headers))
                    listener.paths.append(self.path.split("?", 1)[0])
                    listener._arrived.notify_all()
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    def fail_next(self, count: int) -> None:
        """Answer the next ``count`` PUTs with 503, as S3 sometimes does."""
        self._to_refuse = count

    def start(self) -> ResponseListener:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/cloudformation-custom-resource-response/{uuid.uuid4()}?X-Amz-Signature=test"

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.answers) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} answers, got {len(self.answers)}")
                self._arrived.wait(left)
            return list(self.answers)

    def answer_to(self, url: str, timeout: float) -> dict[str, Any] | None:
        """The first answer PUT to ``url`` (one of :meth:`url`'s), or None after ``timeout``."""
        path = url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                for index, arrived in enumerate(self.paths):
                    if arrived.lstrip("/") == path:
                        return self.answers[index]
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._arrived.wait(left)


class LambdaContext:
    """The parts of the Lambda context the handlers use, with a real deadline."""

    def __init__(self, timeout_seconds: float = 300.0) -> None:
        self._deadline = time.monotonic() + timeout_seconds
        self.function_name = "mlops-portfolio-LifecycleFunction"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = "/aws/lambda/mlops-portfolio-lifecycle"
        self.log_stream_name = "2026/11/22/[$LATEST]0123456789abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))
