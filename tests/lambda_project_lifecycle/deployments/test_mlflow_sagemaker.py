"""The MLflow sync reaches SageMaker managed MLflow: an ARN resolves to its REST API, and the
reconcile (managed MLflow's only trigger) deploys from it with SigV4-signed calls.

moto 5.2.5 implements neither ``DescribeMlflowTrackingServer`` nor ``DescribeMlflowApp``
(NotImplementedError), so the describe answers come from a botocore ``Stubber``: it checks
each request and each answer against SageMaker's service model, and fails on a call it was
not given an answer for (which is how "described once per invocation" is proved). What
answers the signed calls is a real server on 127.0.0.1 that checks each SigV4 signature
with botocore and passes the request to a real MLflow server (SQLite backend):
:mod:`.signed_mlflow`.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.credentials import Credentials
from botocore.stub import Stubber

from lambda_project_lifecycle.clients import AwsClients
from lambda_project_lifecycle.deployments import mlflow_reconcile
from lambda_project_lifecycle.deployments.mlflow_rest import MlflowUnreachableError
from lambda_project_lifecycle.deployments.mlflow_sagemaker import ManagedServers
from lambda_project_lifecycle.deployments.mlflow_sync import MlflowSync
from tests.lambda_project_lifecycle.conftest import REGISTRY_TABLE, boto3_session
from tests.lambda_project_lifecycle.deployments.mlflow_world import MlflowProject, mlflow_project
from tests.lambda_project_lifecycle.deployments.signed_mlflow import SignedProxy, signed_proxy
from tests.seed_code.mlflow_server import mlflow_server
from tests.support.deployments import ACCOUNT, REGION, DeployWorld

SERVER_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:mlflow-tracking-server/team-mlflow"
APP_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:mlflow-app/app-7gxpyr2wsl2k"


def tracking_server(url: str, *, active: str = "Active", status: str = "Started") -> dict:
    """DescribeMlflowTrackingServer's answer for :data:`SERVER_ARN`."""
    return {
        "TrackingServerArn": SERVER_ARN,
        "TrackingServerName": "team-mlflow",
        "TrackingServerStatus": status,
        "IsActive": active,
        "TrackingServerUrl": url,
    }


def app(status: str = "Created", arn: str = APP_ARN) -> dict:
    return {"Arn": arn, "Name": "mlops-portfolio-mlflow", "Status": status}


@pytest.fixture
def sagemaker() -> Iterator[tuple[Any, Stubber]]:
    # Not the tests' shared session: used before moto starts, it would keep the credentials
    # of that moment for the later tests that run on moto.
    client = boto3.session.Session(region_name=REGION).client("sagemaker")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def describes_server(stubber: Stubber, answer: dict) -> None:
    stubber.add_response(
        "describe_mlflow_tracking_server", answer, {"TrackingServerName": "team-mlflow"}
    )


# --- where an ARN's REST API is ------------------------------------------------------------


def test_a_tracking_server_is_called_at_its_url_and_described_once_per_invocation(
    sagemaker,
) -> None:
    client, stubber = sagemaker
    describes_server(
        stubber, tracking_server("https://t-abc123.us-east-1.experiments.sagemaker.aws/")
    )
    servers = ManagedServers(AwsClients(sagemaker=client))

    first, again = servers.resolve(SERVER_ARN), servers.resolve(SERVER_ARN)

    assert first.url == "https://t-abc123.us-east-1.experiments.sagemaker.aws"
    assert (first.region, again) == (REGION, first)  # the second came from the cache


@pytest.mark.parametrize(
    ("partition", "region", "url"),
    [
        ("aws", "us-east-1", "https://mlflow.sagemaker.us-east-1.app.aws"),
        ("aws-us-gov", "us-gov-west-1", "https://mlflow.sagemaker.us-gov-west-1.app.aws"),
    ],
)
def test_an_mlflow_app_is_called_at_its_regions_app_endpoint(
    partition: str, region: str, url: str
) -> None:
    client = boto3.session.Session(region_name=region).client("sagemaker")
    arn = f"arn:{partition}:sagemaker:{region}:{ACCOUNT}:mlflow-app/app-7gxpyr2wsl2k"
    with Stubber(client) as stubber:
        stubber.add_response("describe_mlflow_app", app(arn=arn), {"Arn": arn})
        server = ManagedServers(AwsClients(sagemaker=client)).resolve(arn)

    assert (server.url, server.region, server.arn) == (url, region, arn)


def test_a_request_is_signed_for_sagemaker_mlflow_and_names_its_server(sagemaker) -> None:
    client, stubber = sagemaker
    stubber.add_response("describe_mlflow_app", app(), {"Arn": APP_ARN})
    servers = ManagedServers(AwsClients(sagemaker=client))
    sent: list[tuple[str, dict[str, str]]] = []

    class Recorder:
        def request(self, method: str, url: str, headers: dict[str, str], **_: Any) -> Any:
            sent.append((url, headers))
            return type("Answer", (), {"status": 200, "data": b'{"registered_model": {}}'})()

    servers.registry(APP_ARN, Recorder()).aliases("sagemaker-churn model")

    ((url, headers),) = sent
    assert url == (
        "https://mlflow.sagemaker.us-east-1.app.aws/api/2.0/mlflow/registered-models/get"
        "?name=sagemaker-churn%20model"
    )
    assert headers["x-mlflow-sm-tracking-server-arn"] == APP_ARN
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=")
    assert "/us-east-1/sagemaker-mlflow/aws4_request" in headers["Authorization"]
    assert "x-mlflow-sm-tracking-server-arn" in headers["Authorization"]


@pytest.mark.parametrize(
    ("arn", "answer", "reason"),
    [
        (SERVER_ARN, {"error": "ResourceNotFound"}, "does not exist"),
        (SERVER_ARN.replace(REGION, "eu-west-1"), None, "is in eu-west-1; .* in us-east-1 only"),
        (
            SERVER_ARN.replace(ACCOUNT, "210987654321"),
            tracking_server("https://t-abc123.us-east-1.experiments.sagemaker.aws"),
            f"not this account's: its name here is {SERVER_ARN}",
        ),
        (SERVER_ARN, {"error": "AccessDeniedException"}, "AccessDeniedException"),
        (SERVER_ARN, tracking_server("", active="Inactive", status="Stopped"), "is stopped"),
        (SERVER_ARN, tracking_server("", status="Creating"), r"has no URL yet \(Creating\)"),
        (APP_ARN, app("Deleting"), "is Deleting"),
        (APP_ARN.replace(":aws:", ":aws-cn:"), None, "partition aws-cn"),
        (SERVER_ARN.replace("tracking-server", "notebook"), None, "no mlflow-notebook"),
        ("arn:aws:sagemaker:us-east-1:123:mlflow-app/x", None, "not a SageMaker MLflow"),
        # the name the lifecycle refuses too (one pattern for both)
        (f"{SERVER_ARN}-", None, "not a SageMaker MLflow"),
    ],
)
def test_a_server_that_cannot_be_called_is_reported_unreachable_saying_why(
    sagemaker, arn: str, answer: dict | None, reason: str
) -> None:
    client, stubber = sagemaker
    operation = "describe_mlflow_tracking_server"
    if "mlflow-app/" in arn:
        operation = "describe_mlflow_app"
    if answer is not None and "error" in answer:
        stubber.add_client_error(operation, answer["error"], "as SageMaker says", 400)
    elif answer is not None:
        stubber.add_response(operation, answer)

    with pytest.raises(MlflowUnreachableError, match=reason):
        ManagedServers(AwsClients(sagemaker=client)).resolve(arn)


# --- the reconcile against a signed server ---------------------------------------------------


@pytest.fixture(scope="module")
def mlflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with mlflow_server(Path(tmp_path_factory.mktemp("managed-mlflow"))) as url:
        yield url


@pytest.fixture
def managed(
    world: DeployWorld, mlflow: str, sagemaker, request: pytest.FixtureRequest
) -> Iterator[tuple[MlflowProject, SignedProxy, Stubber, AwsClients]]:
    """A project whose tracking server is :data:`SERVER_ARN`, served by the signed proxy in
    front of the module's MLflow server (each test its own project, so its own models)."""
    client, stubber = sagemaker
    signing = AwsClients(boto3_session(), sagemaker=client)
    access_key, secret_key, token = signing.credentials()
    project_id = f"p-{zlib.crc32(request.node.name.encode()):012d}"
    project = mlflow_project(world, mlflow, "churn", project_id)
    world.client("dynamodb").update_item(
        TableName=REGISTRY_TABLE,
        Key={"pk": {"S": f"project#{project_id}"}},
        UpdateExpression="SET MlflowTrackingUri = :uri",
        ExpressionAttributeValues={":uri": {"S": SERVER_ARN}},
    )
    expected = Credentials(access_key, secret_key, token)
    with signed_proxy(mlflow, arn=SERVER_ARN, region=REGION, credentials=expected) as proxy:
        yield project, proxy, stubber, signing


def reconcile(project: MlflowProject, signing: AwsClients) -> dict[str, Any]:
    """One scheduled run, as the handler makes it: a new sync (so one describe), the fixed
    clock of the deploy world."""
    world = project.world
    sync = MlflowSync(world.deployer(), world.clients.http, managed=ManagedServers(signing))
    return mlflow_reconcile.handle_event({}, None, sync, now=world.now)


def test_the_reconcile_deploys_an_aliased_version_from_a_managed_server_with_signed_calls(
    managed,
) -> None:
    project, proxy, stubber, signing = managed
    model = project.model("prod")
    version = project.register("prod")
    project.client.set_registered_model_alias(model, "approved", version)
    describes_server(stubber, tracking_server(proxy.url))

    run = reconcile(project, signing)

    assert run["unreachable"] == {}, run
    assert run["changed"] == [model]
    assert run["results"][model]["action"] == "deploying"
    assert project.served("production")["AllTraffic"]["ModelDataUrl"].endswith(
        f"/prod-{version}/model.tar.gz"
    )
    assert proxy.requests, "the sync called the server"
    assert [why for _, _, why in proxy.requests] == [None] * len(proxy.requests)
    describes_server(stubber, tracking_server(proxy.url))  # the next run describes again
    again = reconcile(project, signing)
    assert (again["changed"], again["results"][model]["action"]) == ([], "unchanged")


def test_a_managed_server_that_denies_the_functions_role_changes_nothing(managed) -> None:
    project, proxy, stubber, signing = managed
    model = project.model("prod")
    project.client.set_registered_model_alias(model, "approved", project.register("prod"))
    describes_server(stubber, tracking_server(proxy.url))
    proxy.credentials = Credentials("AKIAOTHERROLE0000000", "another-secret")  # not this role

    run = reconcile(project, signing)

    assert set(run["unreachable"]) >= {model, project.model("dev")}
    assert "denied" in run["unreachable"][model]
    assert "AccessDeniedException" in run["unreachable"][model]
    assert run["changed"] == []
    assert project.world.endpoint_names() == set()
