"""A custom-resource handler for the tests: it answers as its properties say."""

import json
import urllib.request

import boto3

FAIL_DELETE_PARAMETER = "/custom-resource-tests/fail-delete"


def fails_delete():
    try:
        value = boto3.client("ssm").get_parameter(Name=FAIL_DELETE_PARAMETER)["Parameter"]["Value"]
    except Exception:
        return False
    return value == "yes"


def handler(event, context):
    print(json.dumps(event))
    properties = event["ResourceProperties"]
    if properties.get("Silent") == "true":
        return  # never answers: CloudFormation waits until ServiceTimeout
    request = event["RequestType"]
    if request == "Delete":
        status = "FAILED" if fails_delete() else "SUCCESS"
    else:
        status = properties.get("Outcome", "SUCCESS")
    answer = {
        "Status": status,
        "Reason": f"{request} answered {status}",
        "PhysicalResourceId": properties.get("PhysicalId") or context.log_stream_name,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "Data": {"Greeting": f"hello {properties.get('Size')}", "Request": request},
    }
    body = json.dumps(answer).encode()
    put = urllib.request.Request(
        event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": ""}
    )
    with urllib.request.urlopen(put, timeout=10) as reply:
        reply.read()
