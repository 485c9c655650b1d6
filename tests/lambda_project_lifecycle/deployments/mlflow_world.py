"""A real MLflow server whose webhooks reach the webhook handler, beside the deploy world.

* :func:`webhook_server`: one MLflow tracking server on 127.0.0.1 (SQLite backend, so
  webhooks work) per test module, allowed to deliver to 127.0.0.1 over plain HTTP;
* :class:`Receiver`: a real HTTP server on 127.0.0.1 that turns each delivery into the
  Lambda function URL event (payload format 2.0) and answers with what the handler
  answers, keeping every delivery to replay or tamper with;
* :class:`MlflowProject`: an MLflow project of the deploy world whose registry names the
  local server, with helpers to register versions and move the ``approved`` alias.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from lambda_project_lifecycle.deployments import mlflow_reconcile, mlflow_webhook
from lambda_project_lifecycle.deployments.mlflow_sync import MlflowSync
from lambda_project_lifecycle.naming import ProjectNames
from tests.lambda_project_lifecycle.conftest import REGISTRY_TABLE
from tests.seed_code.mlflow_server import mlflow_server
from tests.support.deployments import DATA_BUCKET, IMAGE, DeployWorld

SECRET = "whsec-mlops-portfolio-test"
DELIVERY_WAIT_SECONDS = 15.0
# What the server needs to deliver to the receiver: a private address, over http.
SERVER_ENVIRONMENT = {
    "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true",
    "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https",
}

Target = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass
class Delivery:
    headers: dict[str, str]
    body: str
    answer: dict[str, Any]

    @property
    def result(self) -> dict[str, Any]:
        return dict(json.loads(self.answer["body"]))

    def event(self, **headers: str) -> dict[str, Any]:
        given = {key.lower(): value for key, value in headers.items()}
        return function_url_event({**self.headers, **given}, self.body)


def function_url_event(headers: dict[str, str], body: str) -> dict[str, Any]:
    """What a Lambda function URL hands the function (payload format 2.0)."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "headers": {key.lower(): value for key, value in headers.items()},
        "body": body,
        "isBase64Encoded": False,
        "requestContext": {"http": {"method": "POST", "path": "/"}},
    }


@dataclass
class Receiver:
    url: str
    target: Target | None = None
    deliveries: list[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait(self, count: int) -> list[Delivery]:
        """The first ``count`` deliveries, once that many arrived."""
        deadline = time.monotonic() + DELIVERY_WAIT_SECONDS
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.deliveries) >= count:
                    return self.deliveries[:count]
            time.sleep(0.05)
        raise AssertionError(f"{len(self.deliveries)} deliveries arrived, not {count}")


@contextmanager
def receiver() -> Iterator[Receiver]:
    state = Receiver("")

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            headers = {key.lower(): value for key, value in self.headers.items()}
            target = state.target
            answer = (
                target(function_url_event(headers, body))
                if target
                else {"statusCode": 503, "body": "{}"}
            )
            with state.lock:
                state.deliveries.append(Delivery(headers, body, answer))
            self.reply(int(answer["statusCode"]), str(answer.get("body", "")).encode())

    with serving(Handler) as url:
        state.url = f"{url}/"
        yield state


class QuietHandler(BaseHTTPRequestHandler):
    """A test server's handler: no log line per request; one call answers."""

    def reply(self, status: int, data: bytes, content_type: str = "") -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """``http://127.0.0.1:<port>``, answered by ``handler`` in threads until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class MlflowProject:
    world: DeployWorld
    names: ProjectNames
    tracking_uri: str
    client: Any

    @property
    def sync(self) -> MlflowSync:
        return MlflowSync(self.world.deployer(), self.world.clients.http)

    def model(self, kind: str = "dev") -> str:
        return self.names.model_package_group(kind)

    def register(self, kind: str = "dev", *, archive: bool = True, **tags: str) -> str:
        """A version as the seed's register step makes it: its archive in the data bucket,
        tagged with it, the serving image and lineage. Returns the version number."""
        name = self.model(kind)
        self.client.get_registered_model(name)  # made by the first register of each test
        count = len(self.client.search_model_versions(f"name = '{name}'"))
        key = f"{self.names.prefix}/models/{kind}-{count + 1}/model.tar.gz"
        if archive:
            self.world.client("s3").put_object(Bucket=DATA_BUCKET, Key=key, Body=b"archive")
        version = self.client.create_model_version(
            name,
            source=f"s3://{DATA_BUCKET}/{key}",
            tags={
                "model_data_url": f"s3://{DATA_BUCKET}/{key}",
                "inference_image": IMAGE,
                "commit_id": f"{count + 1:040x}",
                "branch": kind,
                "metric.accuracy": "0.91",
                "hyperparameters": '{"max_depth":5}',
                **tags,
            },
        )
        return str(version.version)

    def webhook_event(self, secret: str = SECRET) -> Target:
        """The receiver's target: the real handler, with this world's engine."""
        return lambda event: mlflow_webhook.handle_event(event, None, self.sync, secret=secret)

    def reconcile(self, **options: Any) -> dict[str, Any]:
        return mlflow_reconcile.handle_event({}, None, self.sync, now=self.world.now, **options)

    def served(self, stage: str = "development") -> dict[str, Any]:
        """The primary container of each variant the stage's endpoint serves."""
        sagemaker = self.world.sagemaker
        endpoint = sagemaker.describe_endpoint(EndpointName=self.names.endpoint(stage))
        config = sagemaker.describe_endpoint_config(
            EndpointConfigName=endpoint["EndpointConfigName"]
        )
        return {
            v["VariantName"]: sagemaker.describe_model(ModelName=v["ModelName"])["PrimaryContainer"]
            for v in config["ProductionVariants"]
        }


def mlflow_project(
    world: DeployWorld, tracking_uri: str, name: str, project_id: str, scenario: str = "baseline"
) -> MlflowProject:
    """An MLflow project made by the lifecycle handler, its registered models in MLflow, its
    registry naming the local server (the lifecycle accepts https URLs only; the server
    here is plain http on 127.0.0.1)."""
    from mlflow import MlflowClient

    names = world.create_project(name, project_id, Registry="mlflow", Scenario=scenario)
    world.client("dynamodb").update_item(
        TableName=REGISTRY_TABLE,
        Key={"pk": {"S": f"project#{project_id}"}},
        UpdateExpression="SET MlflowTrackingUri = :uri",
        ExpressionAttributeValues={":uri": {"S": tracking_uri}},
    )
    client = MlflowClient(tracking_uri=tracking_uri)
    kinds = ("feature", "dev", "prod")
    if scenario == "advanced":
        kinds = ("feature", "dev", "champion", "challenger")
    for kind in kinds:
        client.create_registered_model(names.model_package_group(kind))
    return MlflowProject(world, names, tracking_uri, client)


@contextmanager
def webhook_server(directory: Path) -> Iterator[tuple[str, Receiver]]:
    """A tracking server with one webhook (alias created and deleted) to a receiver."""
    from mlflow import MlflowClient

    with receiver() as target, mlflow_server(directory, SERVER_ENVIRONMENT) as url:
        MlflowClient(tracking_uri=url).create_webhook(
            name="mlops-portfolio-sync",
            url=target.url,
            events=["model_version_alias.created", "model_version_alias.deleted"],
            secret=SECRET,
        )
        yield url, target
