"""What taskcat's run needs of the emulator: nested stacks through the endpoint, taskcat's
bucket policy, CodeCommit tags, and the proxy that is taskcat's network."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from sandbox.aws_proxy import AwsProxy
from sandbox.codecommit_tags import CodeCommitTags
from sandbox.custom_resources import CustomResources
from sandbox.emulator import FAKE_CREDENTIALS, Emulator
from sandbox.endpoint import emulator_with_gaps
from sandbox.lambda_runtime import LambdaRuntime
from sandbox.nested_stacks import NestedStacks
from sandbox.s3_policy_conditions import SignatureVersionConditions
from sandbox.tls import CertificateAuthority
from tests.support.network import loopback_only

REGION = "eu-west-1"
BUCKET = "nested-templates"


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    return CertificateAuthority.create(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def aws(authority: CertificateAuthority) -> Iterator[tuple[Emulator, AwsProxy]]:
    with loopback_only():
        emulator = emulator_with_gaps(region=REGION).start()
        try:
            CustomResources(emulator, LambdaRuntime(emulator, retry_delays=(0.1, 0.1)))
            NestedStacks(emulator)
            SignatureVersionConditions(emulator)
            CodeCommitTags(emulator)
            proxy = AwsProxy(emulator, authority)
            s3 = emulator.client("s3", REGION)
            s3.create_bucket(
                Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
            )
            yield emulator, proxy
        finally:
            emulator.stop()


def upload(emulator: Emulator, key: str, template: dict[str, Any]) -> str:
    emulator.client("s3", REGION).put_object(Bucket=BUCKET, Key=key, Body=json.dumps(template))
    return f"https://{BUCKET}.s3.{REGION}.amazonaws.com/{key}"


def child(name: str) -> dict[str, Any]:
    """A nested template with a parameter, an SSM parameter and an output; Fn::ForEach, so
    that it creates only when the endpoint processed it."""
    return {
        "Transform": "AWS::LanguageExtensions",
        "Parameters": {"Greeting": {"Type": "String"}},
        "Resources": {
            "Fn::ForEach::Names": [
                "Item",
                [name],
                {
                    "${Item}Parameter": {
                        "Type": "AWS::SSM::Parameter",
                        "Properties": {
                            "Name": f"/nested/{name}",
                            "Type": "String",
                            "Value": {"Ref": "Greeting"},
                        },
                    }
                },
            ]
        },
        "Outputs": {"Said": {"Value": {"Fn::Sub": "${Greeting} from " + name}}},
    }


def parent(first_url: str, second_url: str) -> str:
    return json.dumps(
        {
            "Resources": {
                "First": {
                    "Type": "AWS::CloudFormation::Stack",
                    "Properties": {"TemplateURL": first_url, "Parameters": {"Greeting": "hi"}},
                },
                "Second": {
                    "Type": "AWS::CloudFormation::Stack",
                    "DependsOn": ["First"],
                    "Properties": {
                        "TemplateURL": second_url,
                        "Parameters": {"Greeting": {"Fn::GetAtt": ["First", "Outputs.Said"]}},
                    },
                },
            },
            "Outputs": {
                "Said": {"Value": {"Fn::GetAtt": ["Second", "Outputs.Said"]}},
                "FirstId": {"Value": {"Ref": "First"}},
            },
        }
    )


def test_nested_stacks_are_made_through_the_endpoint_and_deleted_in_order(
    aws: tuple[Emulator, AwsProxy],
) -> None:
    emulator, _ = aws
    cloudformation = emulator.client("cloudformation", REGION)
    ssm = emulator.client("ssm", REGION)
    body = parent(
        upload(emulator, "first.json", child("one")), upload(emulator, "second.json", child("two"))
    )

    stack_id = cloudformation.create_stack(
        StackName="parent", TemplateBody=body, Capabilities=["CAPABILITY_AUTO_EXPAND"]
    )["StackId"]

    stack = cloudformation.describe_stacks(StackName=stack_id)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs["Said"] == "hi from one from two"
    nested = cloudformation.describe_stacks(StackName=outputs["FirstId"])["Stacks"][0]
    assert nested["StackName"].startswith("parent-First-")
    assert nested["StackStatus"] == "CREATE_COMPLETE"
    resources = cloudformation.list_stack_resources(StackName=stack_id)["StackResourceSummaries"]
    assert {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources}["First"] == outputs[
        "FirstId"
    ]
    assert ssm.get_parameter(Name="/nested/two")["Parameter"]["Value"] == "hi from one"

    cloudformation.delete_stack(StackName=stack_id)

    assert cloudformation.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == (
        "DELETE_COMPLETE"
    )
    assert ssm.get_parameters(Names=["/nested/one", "/nested/two"])["Parameters"] == []


def test_a_nested_stack_that_fails_rolls_the_parent_back(aws: tuple[Emulator, AwsProxy]) -> None:
    emulator, _ = aws
    cloudformation = emulator.client("cloudformation", REGION)
    good = upload(emulator, "good.json", child("kept-not"))
    missing = f"https://{BUCKET}.s3.{REGION}.amazonaws.com/not-uploaded.json"

    stack_id = cloudformation.create_stack(
        StackName="failing-parent",
        TemplateBody=parent(good, missing),
        Capabilities=["CAPABILITY_AUTO_EXPAND"],
    )["StackId"]

    stack = cloudformation.describe_stacks(StackName=stack_id)["Stacks"][0]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    parameters = emulator.client("ssm", REGION).get_parameters(Names=["/nested/kept-not"])
    assert parameters["Parameters"] == []  # the nested stack made first was deleted again


TASKCAT_SIGV4_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Test",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": "arn:aws:s3:::{bucket}/*",
            "Condition": {"StringEquals": {"s3:signatureversion": "AWS"}},
        }
    ],
}


@pytest.mark.parametrize(
    ("denied_version", "refused"), [("AWS", False), ("AWS4-HMAC-SHA256", True)]
)
def test_a_bucket_policy_denies_by_signature_version_as_s3_does(
    aws: tuple[Emulator, AwsProxy], denied_version: str, refused: bool
) -> None:
    emulator, _ = aws
    s3 = emulator.client("s3", REGION)
    bucket = f"tcat-policy-{denied_version.lower().replace('4-hmac-sha256', '4')}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    policy = json.loads(json.dumps(TASKCAT_SIGV4_POLICY).replace("{bucket}", bucket))
    policy["Statement"][0]["Condition"]["StringEquals"]["s3:signatureversion"] = denied_version
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))

    if refused:
        with pytest.raises(ClientError) as raised:
            s3.put_object(Bucket=bucket, Key="templates/a.json", Body=b"{}")
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    else:
        s3.put_object(Bucket=bucket, Key="templates/a.json", Body=b"{}")
        assert s3.get_object(Bucket=bucket, Key="templates/a.json")["Body"].read() == b"{}"
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == policy


def test_codecommit_tags_are_kept_and_served(aws: tuple[Emulator, AwsProxy]) -> None:
    emulator, _ = aws
    codecommit = emulator.client("codecommit", REGION)
    arn = codecommit.create_repository(
        repositoryName="sagemaker-tagged", tags={"sagemaker:project-id": "p-1"}
    )["repositoryMetadata"]["Arn"]

    codecommit.tag_resource(resourceArn=arn, tags={"deleted": "soon"})
    codecommit.untag_resource(resourceArn=arn, tagKeys=["sagemaker:project-id"])
    assert codecommit.list_tags_for_resource(resourceArn=arn)["tags"] == {"deleted": "soon"}

    codecommit.delete_repository(repositoryName="sagemaker-tagged")
    with pytest.raises(codecommit.exceptions.RepositoryDoesNotExistException):
        codecommit.list_tags_for_resource(resourceArn=arn)


def test_the_proxy_sends_aws_host_names_to_the_emulator(
    aws: tuple[Emulator, AwsProxy], authority: CertificateAuthority
) -> None:
    _, proxy = aws
    # taskcat's own STS endpoint, as it names it: over HTTPS, through the proxy.
    sts = boto3.Session(region_name=REGION, **_credentials()).client(
        "sts",
        endpoint_url=f"https://sts.{REGION}.amazonaws.com",
        verify=str(authority.certificate_path),
        config=Config(proxies={"https": proxy.url}),
    )
    assert sts.get_caller_identity()["Account"] == "123456789012"


def test_the_proxy_answers_any_other_host_not_found(
    aws: tuple[Emulator, AwsProxy], authority: CertificateAuthority
) -> None:
    _, proxy = aws
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({"https": proxy.url}),
        urllib.request.HTTPSHandler(
            context=ssl.create_default_context(cafile=str(authority.certificate_path))
        ),
    )
    with pytest.raises(urllib.error.HTTPError) as raised:
        opener.open("https://raw.githubusercontent.com/aws-ia/taskcat/main/a.css", timeout=10)
    assert raised.value.code == 404
    assert raised.value.read() == b""
    environment = proxy.environment()
    assert environment["HTTPS_PROXY"] == proxy.url
    assert "127.0.0.1" in environment["NO_PROXY"].split(",")
    assert Path(environment["AWS_CA_BUNDLE"]) == authority.certificate_path


def _credentials() -> dict[str, str]:
    return {
        "aws_access_key_id": FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        "aws_session_token": FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
    }
