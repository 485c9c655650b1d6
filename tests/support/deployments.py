"""What the deployment tests need around the handlers: AWS in moto, a webhook, stored events.

* :func:`deploy_config_schema`: the deployment-config schema's one source,
  ``seed_code/common/deploy/config.schema.json`` (what the build packages).
* :class:`DeployWorld`: moto with the registry table, the notification topic (an SQS
  queue subscribed to read what was published), the project data bucket, a project
  made by the real lifecycle handler, and the deployment handlers' settings.
* :class:`WebhookListener`: a real HTTPS (or, to prove it is refused, HTTP) server on
  127.0.0.1 that records what a Slack-compatible webhook would receive.
* :func:`model_server`: a real HTTP server on 127.0.0.1 that answers the SageMaker
  runtime's InvokeEndpoint in place of the endpoint, as slowly as a test says (moto
  answers at once), so the handlers' timeouts meet a real socket.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import ssl
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sagemakerruntime.models import sagemakerruntime_backends

from lambda_project_lifecycle.clients import AwsClients
from lambda_project_lifecycle.deployments import endpoint_events, model_deploy, reaper
from lambda_project_lifecycle.deployments.accounts import StageAccounts, stage_accounts_for
from lambda_project_lifecycle.deployments.context import DeploymentContext
from lambda_project_lifecycle.deployments.deployer import Deployer
from lambda_project_lifecycle.deployments.notifications import Notifier
from lambda_project_lifecycle.deployments.settings import REPOSITORY_SCHEMA, DeploySettings
from lambda_project_lifecycle.lifecycle import Settings, handle_event
from lambda_project_lifecycle.naming import ProjectNames
from lambda_project_lifecycle.stage_accounts import StageAccountIds
from sandbox.cloudformation import LambdaContext
from sandbox.emulator_gaps import SageMakerGaps
from sandbox.tls import CertificateAuthority
from tests.lambda_project_lifecycle.conftest import (
    PROJECT_DATA_BUCKET,
    REGISTRY_TABLE,
    boto3_session,
    emulated_aws,
)
from tests.support.events import load_event

REGION = "us-east-1"
ACCOUNT = DEFAULT_ACCOUNT_ID
DATA_BUCKET = PROJECT_DATA_BUCKET
MODEL_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/mlops-portfolio-ModelExecutionRole"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:mlops-portfolio-ModelDeployFunction"
IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/sklearn-inference:1.4-1"


def deploy_config_schema() -> Path:
    if not REPOSITORY_SCHEMA.is_file():
        pytest.fail(f"the deployment-config schema {REPOSITORY_SCHEMA} is missing")
    return REPOSITORY_SCHEMA


class HandlerContext(LambdaContext):
    def __init__(self, function_arn: str = FUNCTION_ARN, timeout_seconds: float = 60.0) -> None:
        super().__init__(timeout_seconds)
        self.invoked_function_arn = function_arn


@dataclass
class DeployWorld:
    clients: AwsClients
    gaps: SageMakerGaps
    settings: DeploySettings
    lifecycle_settings: Settings
    queue_url: str
    notifier: Notifier
    clock: list[dt.datetime] = field(
        default_factory=lambda: [dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)]
    )
    # The accounts of the stages (None: every stage in the platform's account).
    stage_accounts: StageAccountIds | None = None
    # Their clients: each account's sagemaker client with the SageMaker gaps filled.
    hosting_gaps: dict[str, SageMakerGaps] = field(default_factory=dict)
    _event_seconds: int = 0

    # --- AWS clients ------------------------------------------------------------------

    @property
    def sagemaker(self) -> Any:
        return self.clients.sagemaker

    def client(self, service: str) -> Any:
        return self.clients.client(service)

    def now(self) -> dt.datetime:
        return self.clock[0]

    def deployer(self) -> Deployer:
        return Deployer(
            DeploymentContext(
                self.clients,
                self.settings,
                notifier=self.notifier,
                now=self.now,
                accounts=self.accounts(),
            )
        )

    def accounts(self) -> StageAccounts:
        return stage_accounts_for(self.clients, self.stage_accounts, self._hosting_clients)

    def _hosting_clients(
        self, account: str, credentials: dict[str, Any], region: str
    ) -> AwsClients:
        """A stage account's clients as the engine makes them, with moto's SageMaker gaps
        filled on its sagemaker client (the same Stubber as the platform's)."""
        session = boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=region,
        )
        sagemaker = session.client("sagemaker")
        self.hosting_gaps[account] = SageMakerGaps(sagemaker, account_id=account)
        return AwsClients(session, sagemaker=sagemaker)

    # --- projects and packages ----------------------------------------------------------

    def create_project(
        self, name: str = "churn-model", project_id: str = "p-7gxpyr2wsl2k", **props: str
    ) -> ProjectNames:
        answer = self.lifecycle_create(ProjectName=name, ProjectId=project_id, **props)
        assert answer["Status"] == "SUCCESS", answer["Reason"]
        return ProjectNames(name, project_id)

    def lifecycle_create(self, **props: str) -> dict[str, Any]:
        """The lifecycle Lambda's answer to a project's Create with ``props``."""
        event = load_event("cfn-project-lifecycle-create.json")
        event["ResourceProperties"].update(props)
        return self.lifecycle_answer(event)

    def lifecycle_update(self, created: dict[str, str], **new: str) -> dict[str, Any]:
        """The answer to an Update of the project created with ``created`` to ``new`` (a
        property given as "" is left out of the new properties)."""
        event = load_event("cfn-project-lifecycle-create.json")
        old = dict(event["ResourceProperties"], **created)
        event.update(
            RequestType="Update",
            PhysicalResourceId=ProjectNames(old["ProjectName"], old["ProjectId"]).prefix,
            OldResourceProperties=old,
            ResourceProperties={k: v for k, v in {**old, **new}.items() if v != ""},
        )
        return self.lifecycle_answer(event)

    def lifecycle_answer(self, event: dict[str, Any]) -> dict[str, Any]:
        """The lifecycle Lambda's answer to ``event``."""
        answers: list[bytes] = []
        handle_event(
            event,
            LambdaContext(),
            clients=self.clients,
            settings=self.lifecycle_settings,
            send=lambda url, body: answers.append(body),
        )
        return dict(json.loads(answers[0]))

    def delete_project(self, names: ProjectNames, **props: str) -> dict[str, Any]:
        event = load_event("cfn-project-lifecycle-delete.json")
        event["ResourceProperties"].update(
            ProjectName=names.project_name, ProjectId=names.project_id, **props
        )
        event["PhysicalResourceId"] = names.prefix
        return self.lifecycle_answer(event)

    def register_package(self, group: str, status: str = "PendingManualApproval") -> str:
        return str(
            self.sagemaker.create_model_package(
                ModelPackageGroupName=group,
                ModelApprovalStatus=status,
                InferenceSpecification={
                    "Containers": [
                        {"Image": IMAGE, "ModelDataUrl": f"s3://{DATA_BUCKET}/{group}/model.tar.gz"}
                    ],
                    "SupportedContentTypes": ["text/csv", "application/json"],
                    "SupportedResponseMIMETypes": ["application/json"],
                },
            )["ModelPackageArn"]
        )

    def set_status(self, package_arn: str, status: str) -> None:
        self.sagemaker.update_model_package(ModelPackageArn=package_arn, ModelApprovalStatus=status)

    def create_training_role(self, names: ProjectNames, project_id: str | None = None) -> str:
        """The project's training role as its product stack makes it (moto's CloudFormation
        does not run product stacks here): trusts SageMaker, tagged with the project."""
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {
                        "Service": ["codebuild.amazonaws.com", "sagemaker.amazonaws.com"]
                    },
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        role = self.client("iam").create_role(
            RoleName=names.training_role(),
            AssumeRolePolicyDocument=json.dumps(trust),
            Tags=[
                {"Key": "sagemaker:project-name", "Value": names.project_name},
                {"Key": "sagemaker:project-id", "Value": project_id or names.project_id},
            ],
        )
        return str(role["Role"]["Arn"])

    # --- events -----------------------------------------------------------------------

    def package_event(self, package_arn: str, status: str, **overrides: Any) -> dict[str, Any]:
        """A stored "Model Package State Change" event for ``package_arn``, a second later each."""
        stored = "rejected" if status == "Rejected" else "approved"
        event = load_event(f"sagemaker-model-package-state-change-{stored}.json")
        self._event_seconds += 1
        group, version = package_arn.split(":model-package/")[1].rsplit("/", 1)
        event["time"] = (self.now() + dt.timedelta(seconds=self._event_seconds)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        event["resources"] = [package_arn]
        event["detail"].update(
            ModelPackageGroupName=group,
            ModelPackageArn=package_arn,
            ModelPackageVersion=int(version),
            ModelApprovalStatus=status,
        )
        event.update(overrides)
        return event

    def approve(self, package_arn: str, **overrides: Any) -> dict[str, Any]:
        self.set_status(package_arn, "Approved")
        return self.deploy_event(self.package_event(package_arn, "Approved", **overrides))

    def reject(self, package_arn: str) -> dict[str, Any]:
        self.set_status(package_arn, "Rejected")
        return self.deploy_event(self.package_event(package_arn, "Rejected"))

    def deploy_event(self, event: dict[str, Any]) -> dict[str, Any]:
        return model_deploy.handle_event(event, HandlerContext(), self.deployer())

    def endpoint_event(
        self,
        endpoint_name: str,
        status: str = "IN_SERVICE",
        failure_reason: str = "",
        *,
        lambda_seconds: float = 60.0,
    ) -> dict[str, Any]:
        """The stored "Endpoint State Change" event, filled from the endpoint as it is now."""
        name = (
            "sagemaker-endpoint-state-change-failed.json"
            if status == "FAILED"
            else "sagemaker-endpoint-state-change-in-service.json"
        )
        event = load_event(name)
        endpoint = self.sagemaker.describe_endpoint(EndpointName=endpoint_name)
        event["resources"] = [endpoint["EndpointArn"]]
        event["detail"].update(
            EndpointName=endpoint_name,
            EndpointArn=endpoint["EndpointArn"],
            EndpointConfigName=endpoint["EndpointConfigName"],
            EndpointStatus=status,
        )
        if failure_reason:
            event["detail"]["FailureReason"] = failure_reason
        return endpoint_events.handle_event(
            event, HandlerContext(timeout_seconds=lambda_seconds), self.deployer()
        )

    def reap(self) -> dict[str, Any]:
        if self.stage_accounts is not None:
            run = reaper.reap(
                self.clients,
                self.settings,
                now=self.now(),
                notifier=self.notifier,
                accounts=self.accounts(),
            )
            return {"action": "reaped", "endpoints": run.reaped, "failed": run.failed}
        return reaper.handle_event(
            load_event("scheduled-event-reaper.json"),
            HandlerContext(),
            clients=self.clients,
            settings=self.settings,
            now=self.now,
            notifier=self.notifier,
        )

    # --- what the project published ---------------------------------------------------

    def publish_config(self, names: ProjectNames, branch: str, config: dict[str, Any]) -> None:
        self.client("s3").put_object(
            Bucket=DATA_BUCKET,
            Key=f"{names.prefix}/deploy/{branch}/config.json",
            Body=json.dumps(config).encode(),
        )

    def publish_payloads(self, names: ProjectNames, branch: str, payloads: dict[str, Any]) -> None:
        for name, payload in payloads.items():
            self.client("s3").put_object(
                Bucket=DATA_BUCKET,
                Key=f"{names.prefix}/deploy/{branch}/payloads/{name}.json",
                Body=json.dumps(payload).encode(),
            )

    def model_answers(self, *bodies: str) -> None:
        """What the endpoint answers next (moto's documented results queue), in order."""
        backend = sagemakerruntime_backends[ACCOUNT][REGION]
        backend.results.clear()
        backend.results_queue[:] = [(body, "application/json", "AllTraffic", "") for body in bodies]

    # --- what happened ------------------------------------------------------------------

    def notices(self) -> list[dict[str, Any]]:
        """Every message published to the notification topic so far (read from SQS)."""
        sqs = self.client("sqs")
        messages = []
        while True:
            reply = sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
            )
            batch = reply.get("Messages", [])
            if not batch:
                break
            for message in batch:
                envelope = json.loads(message["Body"])
                document = json.loads(envelope["Message"])
                document["_subject"] = envelope.get("Subject", "")
                document["_attributes"] = {
                    k: v["Value"] for k, v in envelope.get("MessageAttributes", {}).items()
                }
                messages.append(document)
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return messages

    def endpoint_names(self) -> set[str]:
        return {e["EndpointName"] for e in self.sagemaker.list_endpoints()["Endpoints"]}

    def config_names(self) -> set[str]:
        return {
            c["EndpointConfigName"]
            for c in self.sagemaker.list_endpoint_configs()["EndpointConfigs"]
        }

    def model_names(self) -> set[str]:
        return {m["ModelName"] for m in self.sagemaker.list_models()["Models"]}

    def alarm_names(self) -> set[str]:
        return {a["AlarmName"] for a in self.client("cloudwatch").describe_alarms()["MetricAlarms"]}

    def scalable_targets(self) -> set[str]:
        reply = self.client("application-autoscaling").describe_scalable_targets(
            ServiceNamespace="sagemaker"
        )
        return {t["ResourceId"] for t in reply["ScalableTargets"]}

    def endpoint_tags(self, endpoint_name: str) -> dict[str, str]:
        arn = self.sagemaker.describe_endpoint(EndpointName=endpoint_name)["EndpointArn"]
        return {t["Key"]: t["Value"] for t in self.sagemaker.list_tags(ResourceArn=arn)["Tags"]}

    def served_packages(self, endpoint_name: str) -> dict[str, str]:
        """Variant -> model package ARN, read from SageMaker (endpoint -> config -> models)."""
        endpoint = self.sagemaker.describe_endpoint(EndpointName=endpoint_name)
        config = self.sagemaker.describe_endpoint_config(
            EndpointConfigName=endpoint["EndpointConfigName"]
        )
        served = {}
        for variant in [*config["ProductionVariants"], *config.get("ShadowProductionVariants", [])]:
            model = self.sagemaker.describe_model(ModelName=variant["ModelName"])
            served[variant["VariantName"]] = model["PrimaryContainer"]["ModelPackageName"]
        return served

    def record(self, endpoint_name: str) -> dict[str, Any] | None:
        from lambda_project_lifecycle.project_registry import endpoint_key, load_record

        return load_record(self.clients.dynamodb, REGISTRY_TABLE, endpoint_key(endpoint_name))

    def gap_calls(self, operation: str) -> list[dict[str, Any]]:
        return [params for op, params in self.gaps.calls if op == operation]


@contextmanager
def deploy_world(
    *, webhook_secret: str | None = None, ssl_context: ssl.SSLContext | None = None
) -> Iterator[DeployWorld]:
    """What the platform stack provides (the lifecycle tests' emulated account: moto, the
    registry table, seed code, a git server on 127.0.0.1), plus the notification topic
    read back through a queue, the project data bucket, and the deployment settings."""
    with emulated_aws() as account:
        session = boto3_session()
        session.client("s3").create_bucket(Bucket=DATA_BUCKET)
        sns = session.client("sns")
        topic_arn = sns.create_topic(Name="mlops-portfolio-notifications")["TopicArn"]
        sqs = session.client("sqs")
        queue_url = sqs.create_queue(QueueName="notifications")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
        secret_arn = ""
        secrets = account.secretsmanager
        if webhook_secret is not None:
            secret_arn = secrets.create_secret(
                Name="mlops-portfolio/webhook", SecretString=webhook_secret
            )["ARN"]
        clients = account.clients_with(sns=sns, sqs=sqs)
        settings = DeploySettings(
            registry_table=REGISTRY_TABLE,
            topic_arn=topic_arn,
            data_bucket=DATA_BUCKET,
            model_role_arn=MODEL_ROLE_ARN,
            webhook_secret_arn=secret_arn,
            schema_path=deploy_config_schema(),
        )
        notifier = Notifier(
            sns,
            topic_arn,
            secrets=secrets if secret_arn else None,
            webhook_secret_arn=secret_arn,
            ssl_context=ssl_context,
        )
        yield DeployWorld(
            clients=clients,
            gaps=account.gaps,
            settings=settings,
            lifecycle_settings=account.settings,
            queue_url=queue_url,
            notifier=notifier,
        )


# --- an endpoint's model on 127.0.0.1 ---------------------------------------------------


class ModelServer:
    """Answers InvokeEndpoint like a model that takes ``delay`` seconds per request.

    ``answers`` are returned in turn (the last one repeats). ``stop`` releases
    requests still waiting, so a hanging model never outlives its test.
    """

    def __init__(self, answers: list[str], delay: float = 0.0) -> None:
        self.answers = list(answers)
        self.delay = delay
        self.requests: list[dict[str, str]] = []
        self._released = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                server.requests.append(
                    {
                        "path": self.path,
                        "variant": self.headers.get("X-Amzn-SageMaker-Target-Variant", ""),
                    }
                )
                server._released.wait(server.delay)
                index = min(len(server.requests), len(server.answers)) - 1
                body = server.answers[index].encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up waiting

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ModelServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()


RUNTIME_ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"


@contextmanager
def model_server(answers: list[str], delay: float = 0.0) -> Iterator[ModelServer]:
    """Send the SageMaker runtime calls of clients made inside to a :class:`ModelServer`
    (botocore reads the service's endpoint from this variable; moto lets 127.0.0.1 through)."""
    server = ModelServer(answers, delay).start()
    before = os.environ.get(RUNTIME_ENDPOINT_VARIABLE)
    os.environ[RUNTIME_ENDPOINT_VARIABLE] = server.url
    try:
        yield server
    finally:
        if before is None:
            os.environ.pop(RUNTIME_ENDPOINT_VARIABLE, None)
        else:
            os.environ[RUNTIME_ENDPOINT_VARIABLE] = before
        server.stop()


# --- a webhook receiver on 127.0.0.1 -----------------------------------------------------


class WebhookListener:
    """Records the POSTs a Slack-compatible webhook receives; HTTPS with a throwaway cert."""

    def __init__(self, *, tls: bool = True) -> None:
        self.posts: list[dict[str, Any]] = []
        self._arrived = threading.Condition()
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with listener._arrived:
                    listener.posts.append(
                        {"body": json.loads(body), "content_type": self.headers["Content-Type"]}
                    )
                    listener._arrived.notify_all()
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.client_context: ssl.SSLContext | None = None
        self._scratch = tempfile.TemporaryDirectory()
        if tls:
            authority = CertificateAuthority.create(Path(self._scratch.name))
            server_context = authority.server_context()
            self._server.socket = server_context.wrap_socket(self._server.socket, server_side=True)
            self.client_context = authority.client_context()
        self.scheme = "https" if tls else "http"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    def start(self) -> WebhookListener:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._scratch.cleanup()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{self.scheme}://{host}:{port}/services/T000/B000/XXXXXXXX"

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.posts) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} webhook posts, got {len(self.posts)}")
                self._arrived.wait(left)
            return copy.deepcopy(self.posts)
