"""The embedded AWS: moto's server on 127.0.0.1 behind a middleware where support code plays
what moto lacks.

Every boto3 client (in this process or a child process) reaches it through
``AWS_ENDPOINT_URL`` (see :meth:`Emulator.environment`): product code calls AWS as
it would anywhere. The middleware reads each request's service (the SigV4
credential scope), region, account (from the access key, as moto does) and
operation, parses its parameters with botocore's service model, and lets support
code register, per ``(service, operation)``:

- an **answer**: the operation is played here instead of by moto (moto lacks it,
  or lacks what AWS does with it); the answer returns the operation's output as a
  dict, or raises :class:`AwsError`, and is serialized by moto's own serializer;
- a **before** hook: sees (and may replace) the parameters before moto does, e.g.
  template pre-processing for CloudFormation;
- an **after** hook: sees moto's parsed answer and may replace it, or react to it
  (e.g. emit the event AWS would emit).

Each registration is one row of the table in :mod:`sandbox.emulator_gaps`.
moto's state is process-global: run one emulator per process at a time;
:meth:`Emulator.stop` resets it.
"""

from __future__ import annotations

import io
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import boto3
from botocore import parsers as botocore_parsers
from botocore import serialize as botocore_serialize
from botocore.awsrequest import HeadersDict
from botocore.model import OperationModel, ServiceModel
from moto.backends import get_backend
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.exceptions import ServiceException
from moto.core.parse import PROTOCOL_PARSERS
from moto.core.request import Request, determine_request_protocol
from moto.core.routing import get_service_router
from moto.core.serialize import get_serializer_class
from moto.core.utils import get_service_model
from moto.iam.models import get_account_id_from
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.datastructures import MultiDict
from werkzeug.serving import BaseWSGIServer, make_server

logger = logging.getLogger(__name__)

DEFAULT_REGION = "us-east-1"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


class AwsError(ServiceException):
    """An error answer as AWS gives it: ``AwsError("ValidationException", "...")``.

    The code should be one the operation's model lists (botocore raises it as
    ``ClientError`` with that code); the HTTP status comes from the model, or is
    given (``status=404``).
    """

    def __init__(self, code: str, message: str, *, status: int | None = None) -> None:
        super().__init__(code, message)
        if status is not None:
            self.http_status_code = status


class QuietRequestHandler(MotoRequestHandler):
    """moto's request handler without a line on stderr per request (werkzeug's access log)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        logger.debug("%s %s", self.requestline, code)


@dataclass
class Call:
    """One AWS request as the support code sees it."""

    service: str  # botocore's service name: "servicecatalog", "sagemaker-runtime", ...
    operation: str  # "CreateProduct"
    region: str
    account_id: str
    params: dict[str, Any]
    emulator: Emulator
    headers: dict[str, str] = field(default_factory=dict)

    def backend(self, service: str | None = None) -> Any:
        """moto's state for this call's account and region (of ``service``, default its own)."""
        return self.emulator.backend(service or self.service, self.region, self.account_id)


Answer = Callable[[Call], dict[str, Any]]
# A before hook returns new parameters, or None to keep them.
Before = Callable[[Call], dict[str, Any] | None]
# An after hook gets moto's parsed answer and returns a new one, or None to keep moto's bytes.
After = Callable[[Call, dict[str, Any]], dict[str, Any] | None]


@dataclass(frozen=True)
class Gap:
    """One registered stand-in: what moto lacks and how it is played (a row of the gaps table)."""

    service: str
    operation: str
    kind: str  # "answer", "before" or "after"
    why: str


class Emulator:
    """moto on 127.0.0.1 with the registered stand-ins; a context manager."""

    def __init__(self, *, region: str = DEFAULT_REGION, account_id: str = DEFAULT_ACCOUNT_ID):
        self.region = region
        self.account_id = account_id
        self._answers: dict[tuple[str, str], Answer] = {}
        self._before: dict[tuple[str, str], list[Before]] = {}
        self._after: dict[tuple[str, str], list[After]] = {}
        self.gaps: list[Gap] = []
        self._on_stop: list[Callable[[], None]] = []
        self._sessions: dict[str, boto3.Session] = {}
        self._sessions_lock = threading.Lock()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._moto = DomainDispatcherApplication(create_backend_app)

    # -- registration ---------------------------------------------------------------------

    def answer(self, service: str, operation: str, why: str) -> Callable[[Answer], Answer]:
        """Decorator: play ``service.operation`` here instead of in moto."""

        def register(function: Answer) -> Answer:
            self._answers[(service, operation)] = function
            self.gaps.append(Gap(service, operation, "answer", why))
            return function

        return register

    def before(self, service: str, operation: str, why: str) -> Callable[[Before], Before]:
        def register(function: Before) -> Before:
            self._before.setdefault((service, operation), []).append(function)
            self.gaps.append(Gap(service, operation, "before", why))
            return function

        return register

    def after(self, service: str, operation: str, why: str) -> Callable[[After], After]:
        def register(function: After) -> After:
            self._after.setdefault((service, operation), []).append(function)
            self.gaps.append(Gap(service, operation, "after", why))
            return function

        return register

    # -- life cycle -----------------------------------------------------------------------

    def start(self, port: int = 0) -> Emulator:
        self._server = make_server(
            "127.0.0.1",
            port or free_port(),
            self._wsgi,
            threaded=True,
            request_handler=QuietRequestHandler,
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def on_stop(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` when the emulator stops (before moto forgets its state), last
        registered first: support code that runs beside it (workers, servers) ends with it,
        and stand-ins forget their own state as moto does."""
        self._on_stop.append(callback)

    def stop(self) -> None:
        while self._on_stop:
            callback = self._on_stop.pop()
            try:
                callback()
            except Exception:
                logger.exception("stopping %r failed", callback)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        reset_moto()

    def __enter__(self) -> Emulator:
        return self.start() if self._server is None else self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not running: call start() first")
        return int(self._server.server_address[1])

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self, region: str | None = None) -> dict[str, str]:
        """What a process needs so that every AWS SDK call reaches this emulator, and nothing
        of this machine's AWS configuration is read."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            **FAKE_CREDENTIALS,
            "AWS_DEFAULT_REGION": region or self.region,
            "AWS_REGION": region or self.region,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def session(self, region: str | None = None) -> boto3.Session:
        return boto3.Session(
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
            region_name=region or self.region,
        )

    def client(
        self, service: str, region: str | None = None, *, account_id: str | None = None
    ) -> Any:
        """A new client of the emulator, made from one session per region (a session costs
        ten times what a client made from it does); ``account_id`` makes moto act as that
        account."""
        region = region or self.region
        with self._sessions_lock:
            session = self._sessions.get(region)
            if session is None:
                session = self._sessions[region] = self.session(region)
            client = session.client(service, endpoint_url=self.endpoint_url)
        if account_id is not None:

            def as_account(request: Any, **_: Any) -> None:
                request.headers["x-moto-account-id"] = account_id

            client.meta.events.register("before-sign", as_account)
        return client

    def backend(
        self, service: str, region: str | None = None, account_id: str | None = None
    ) -> Any:
        backends = get_backend(service)  # type: ignore[call-overload]
        return backends[account_id or self.account_id][region or self.region]

    # -- the middleware -------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        body = request.get_data(cache=True)
        environ["wsgi.input"] = io.BytesIO(body)
        identified = identify(environ, body) if self._has_registrations() else None
        if identified is None:
            return self._moto(environ, start_response)
        service_model, operation_model, protocol, uri_params = identified
        key = (service_model.service_name, operation_model.name)
        if not (key in self._answers or key in self._before or key in self._after):
            return self._moto(environ, start_response)
        try:
            params = parse_request(operation_model, protocol, request, body, uri_params)
        except Exception:
            logger.exception("could not parse %s.%s", *key)
            return self._moto(environ, start_response)
        call = Call(
            service=service_model.service_name,
            operation=operation_model.name,
            region=region_of(environ) or self.region,
            account_id=environ.get("HTTP_X_MOTO_ACCOUNT_ID")
            or account_of(environ)
            or self.account_id,
            params=params,
            emulator=self,
            headers={k: v for k, v in request.headers.items()},
        )
        try:
            for hook in self._before.get(key, []):
                replaced = hook(call)
                if replaced is not None:
                    call.params = replaced
                    rewrite_request(environ, operation_model, protocol, call.params)
            answer = self._answers.get(key)
            if answer is not None:
                return self._respond(start_response, operation_model, protocol, answer(call))
        except ServiceException as error:
            return self._respond(start_response, operation_model, protocol, error)
        if not self._after.get(key):
            return self._moto(environ, start_response)
        return self._moto_then_after(environ, start_response, call, operation_model, protocol)

    def _has_registrations(self) -> bool:
        return bool(self._answers or self._before or self._after)

    def _moto_then_after(
        self,
        environ: dict[str, Any],
        start_response: Any,
        call: Call,
        operation_model: OperationModel,
        protocol: str,
    ) -> Iterable[bytes]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        chunks = b"".join(self._moto(environ, capture))
        status_code = int(captured["status"].split()[0])
        if status_code >= 300:
            start_response(captured["status"], captured["headers"])
            return [chunks]
        parsed = parse_response(operation_model, protocol, status_code, captured["headers"], chunks)
        result: dict[str, Any] | None = None
        try:
            for hook in self._after.get((call.service, call.operation), []):
                replaced = hook(call, result if result is not None else parsed)
                if replaced is not None:
                    result = replaced
        except ServiceException as error:
            return self._respond(start_response, operation_model, protocol, error)
        if result is None:
            start_response(captured["status"], captured["headers"])
            return [chunks]
        return self._respond(start_response, operation_model, protocol, result)

    def _respond(
        self,
        start_response: Any,
        operation_model: OperationModel,
        protocol: str,
        result: dict[str, Any] | Exception,
    ) -> Iterable[bytes]:
        serializer = get_serializer_class(operation_model.service_model.service_name, protocol)
        response = serializer(operation_model).serialize(result)
        status_member = http_status_member(operation_model)
        if status_member and isinstance(result, dict) and status_member in result:
            response["status_code"] = int(result[status_member])  # e.g. Invoke's 202
        body = response["body"]
        payload = body.encode() if isinstance(body, str) else bytes(body or b"")
        headers = [(k, str(v)) for k, v in dict(response["headers"]).items()]
        headers.append(("Content-Length", str(len(payload))))
        headers.append(("x-amzn-RequestId", "emulated"))
        start_response(f"{response['status_code']} {status_text(response['status_code'])}", headers)
        return [payload]


def http_status_member(operation_model: OperationModel) -> str:
    """The output member that is the HTTP status (``location: statusCode``), if any."""
    shape = operation_model.output_shape
    if shape is None:
        return ""
    for name, member in shape.members.items():
        if member.serialization.get("location") == "statusCode":
            return str(name)
    return ""


def status_text(code: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return ""


# -- reading requests ---------------------------------------------------------------------


def credential_scope(environ: dict[str, Any]) -> list[str]:
    """``[access key, date, region, service, "aws4_request"]`` of a SigV4 request, or []."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    for part in auth.replace(",", " ").split():
        if part.startswith("Credential="):
            return part[len("Credential=") :].split("/")
    return []


def region_of(environ: dict[str, Any]) -> str:
    scope = credential_scope(environ)
    return scope[2] if len(scope) == 5 else ""


def account_of(environ: dict[str, Any]) -> str:
    scope = credential_scope(environ)
    return get_account_id_from(scope[0]) if len(scope) == 5 else ""


# Services whose SigV4 signing name is not their botocore name, or is shared.
SIGNING_NAMES: dict[str, tuple[str, ...]] = {
    "sagemaker": ("sagemaker", "sagemaker-runtime"),
    "monitoring": ("cloudwatch",),
    "states": ("stepfunctions",),
    "codestar-connections": ("codestar-connections",),
}


@cache
def _service_models(signing_name: str) -> tuple[ServiceModel, ...]:
    """moto's own service models (its request parsers and serializers expect them)."""
    models = []
    for name in SIGNING_NAMES.get(signing_name, (signing_name,)):
        try:
            models.append(get_service_model(name))
        except Exception:
            logger.debug("no service model named %s", name)
    return tuple(models)


def identify(
    environ: dict[str, Any], body: bytes
) -> tuple[ServiceModel, OperationModel, str, dict[str, Any]] | None:
    """The service model, operation model, protocol and URI parameters of a request."""
    scope = credential_scope(environ)
    if len(scope) != 5:
        return None
    candidates = _service_models(scope[3])
    content_type = environ.get("CONTENT_TYPE", "")
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    for model in candidates:
        try:
            protocol = determine_request_protocol(model, content_type)
        except NotImplementedError:
            continue
        if target:
            prefix, _, operation = target.rpartition(".")
            if prefix == model.metadata.get("targetPrefix") and operation in model.operation_names:
                return model, model.operation_model(operation), protocol, {}
            continue
        if protocol in ("query", "ec2"):
            action = (parse_qs(body.decode(errors="replace")).get("Action") or [""])[0]
            action = action or (parse_qs(environ.get("QUERY_STRING", "")).get("Action") or [""])[0]
            if action in model.operation_names:
                return model, model.operation_model(action), protocol, {}
            continue
        try:
            operation_model, uri_params = get_service_router(model.service_name).match(
                Request(environ)
            )
        except Exception:
            continue
        return model, operation_model, protocol, dict(uri_params)
    return None


def parse_request(
    operation_model: OperationModel,
    protocol: str,
    request: Request,
    body: bytes,
    uri_params: dict[str, Any],
) -> dict[str, Any]:
    parser = PROTOCOL_PARSERS[protocol](operation_model)
    values: MultiDict[str, Any] = MultiDict(request.args)
    if protocol in ("query", "ec2"):
        for key, items in parse_qs(body.decode(), keep_blank_values=True).items():
            for item in items:
                values.add(key, item)
    parsed = parser.parse(
        {
            "method": request.method,
            "values": values,
            "headers": request.headers,
            "body": body,
            "url_path": request.path,
            "url_params": uri_params,
        }
    )
    return dict(parsed)


def rewrite_request(
    environ: dict[str, Any], operation_model: OperationModel, protocol: str, params: dict[str, Any]
) -> None:
    """Serialize ``params`` into the request moto will read (body, path, query)."""
    serializer = botocore_serialize.create_serializer(protocol, include_validation=False)
    serialized = serializer.serialize_to_request(params, operation_model)
    body = serialized["body"]
    if isinstance(body, dict):  # the query protocol: a form
        body = urlencode(body, doseq=True)
    payload = body.encode() if isinstance(body, str) else bytes(body or b"")
    environ["wsgi.input"] = io.BytesIO(payload)
    environ["CONTENT_LENGTH"] = str(len(payload))
    if protocol.startswith("rest"):
        url = urlsplit(serialized["url_path"])
        environ["PATH_INFO"] = url.path
        query = serialized.get("query_string") or {}
        environ["QUERY_STRING"] = (
            urlencode(query, doseq=True) if isinstance(query, dict) else str(query)
        )


def parse_response(
    operation_model: OperationModel,
    protocol: str,
    status_code: int,
    headers: list[tuple[str, str]],
    body: bytes,
) -> dict[str, Any]:
    parser = botocore_parsers.create_parser(protocol)
    parsed = parser.parse(
        {"status_code": status_code, "headers": HeadersDict(headers), "body": body},
        operation_model.output_shape,
    )
    parsed.pop("ResponseMetadata", None)
    return dict(parsed)


# -- helpers --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def reset_moto() -> None:
    """Forget every account's state (moto keeps it per process)."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()
