"""Function URLs served over HTTPS on 127.0.0.1: a request becomes the payload format 2.0
event of the URL's function, and its answer the HTTP response, as AWS documents."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import urllib3

from sandbox.emulator import Emulator
from sandbox.function_urls import FunctionUrls
from sandbox.lambda_runtime import LambdaRuntime
from sandbox.tls import CertificateAuthority
from tests.sandbox.conftest import deploy, function_code


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    return CertificateAuthority.create(Path(tmp_path_factory.mktemp("ca")))


@pytest.fixture(scope="module")
def front(emulator: Emulator, authority: CertificateAuthority) -> Iterator[FunctionUrls]:
    runtime = LambdaRuntime(emulator)
    urls = FunctionUrls(emulator, runtime, authority)
    yield urls
    urls.stop()
    runtime.stop()


def url_of(emulator: Emulator, name: str, handler: str, auth: str = "NONE") -> str:
    deploy(emulator, name, handler, function_code("app.py"))
    config = emulator.client("lambda").create_function_url_config(FunctionName=name, AuthType=auth)
    return str(config["FunctionUrl"])


def request(
    front: FunctionUrls,
    authority: CertificateAuthority,
    url: str,
    method: str,
    path: str,
    **kw: Any,
) -> urllib3.BaseHTTPResponse:
    """Through TLS to the listener, checking its certificate against the URL's host."""
    host = str(urlsplit(url).hostname)
    pool = urllib3.HTTPSConnectionPool(
        "127.0.0.1",
        front.port,
        server_hostname=host,
        assert_hostname=host,
        ssl_context=authority.client_context(),
        retries=False,
    )
    headers = {"Host": host, **kw.pop("headers", {})}
    return pool.request(method, path, headers=headers, **kw)


def test_a_request_is_the_functions_event_and_its_answer_the_response(
    emulator: Emulator, front: FunctionUrls, authority: CertificateAuthority
) -> None:
    url = url_of(emulator, "receiver", "app.http_answer")

    answer = request(
        front,
        authority,
        url,
        "POST",
        "/hook?kind=alias",
        body=b'{"entity": "model_version_alias"}',
        headers={"Content-Type": "application/json", "X-MLflow-Signature": "v1,abc"},
    )

    assert answer.status == 201
    assert answer.headers["X-Handled-By"] == "http_answer"
    assert answer.headers["Set-Cookie"] == "seen=1"
    assert json.loads(answer.data) == {
        "version": "2.0",
        "method": "POST",
        "path": "/hook",
        "query": {"kind": "alias"},
        "header": "v1,abc",
        "body": '{"entity": "model_version_alias"}',
        "base64": False,
    }
    assert front.answered(str(urlsplit(url).hostname)) == 1


def test_deliveries_are_counted_by_what_their_body_names(
    emulator: Emulator, front: FunctionUrls, authority: CertificateAuthority
) -> None:
    url = url_of(emulator, "shared-receiver", "app.http_answer")
    host = str(urlsplit(url).hostname)
    for project in ("p-aaaa", "p-bbbb", "p-aaaa"):
        body = json.dumps({"name": f"sagemaker-churn-{project}-dev", "alias": "approved"})
        request(front, authority, url, "POST", "/", body=body.encode())

    assert front.answered(host) == 3
    assert front.answered(host, "p-aaaa") == 2 and front.answered(host, "p-bbbb") == 1
    assert [r.status for r in front.answers(host, "p-bbbb")] == [201]
    assert front.answered(host, "p-cccc") == 0


def test_a_binary_body_reaches_the_function_base64_encoded(
    emulator: Emulator, front: FunctionUrls, authority: CertificateAuthority
) -> None:
    url = url_of(emulator, "binary-receiver", "app.http_answer")

    answer = request(
        front, authority, url, "PUT", "/", body=b"\x00\xff",
        headers={"Content-Type": "application/octet-stream"},
    )  # fmt: skip

    assert json.loads(answer.data)["body"] == "AP8=" and json.loads(answer.data)["base64"]


def test_a_result_without_status_code_is_answered_200_as_json(
    emulator: Emulator, front: FunctionUrls, authority: CertificateAuthority
) -> None:
    url = url_of(emulator, "plain", "app.plain_result")

    answer = request(front, authority, url, "GET", "/")

    assert answer.status == 200 and answer.headers["Content-Type"] == "application/json"
    assert json.loads(answer.data) == {"ok": True}


def test_a_function_error_is_a_502_and_an_unknown_url_or_unsigned_iam_call_a_403(
    emulator: Emulator, front: FunctionUrls, authority: CertificateAuthority
) -> None:
    failing = url_of(emulator, "failing", "app.fail")
    iam = url_of(emulator, "iam-only", "app.plain_result", auth="AWS_IAM")
    unknown = "https://0123456789abcdef.lambda-url.us-east-1.on.aws/"

    assert request(front, authority, failing, "POST", "/", body=b"{}").status == 502
    assert request(front, authority, iam, "GET", "/").status == 403
    assert request(front, authority, unknown, "GET", "/").status == 403
