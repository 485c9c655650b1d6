"""Handlers the Lambda runtime tests deploy (zipped as a function's code, never imported here)."""

import json
import os
import sys
import time

import boto3

INVOCATIONS = 0


def echo(event, context):
    global INVOCATIONS
    INVOCATIONS += 1
    print(f"echo {event}")
    return {
        "event": event,
        "invocations": INVOCATIONS,
        "pid": os.getpid(),
        "file": __file__,
        "greeting": os.environ.get("GREETING"),
        "function_name": os.environ.get("AWS_LAMBDA_FUNCTION_NAME"),
        "memory": os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"),
        "handler": os.environ.get("_HANDLER"),
        "context_function": context.function_name,
        "request_id": context.aws_request_id,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "cwd": os.getcwd(),
    }


def importable(event, context):
    """Whether each module named in the event can be imported, and from where."""
    found = {}
    for name in event["modules"]:
        try:
            module = __import__(name)
        except ImportError:
            found[name] = None
        else:
            found[name] = getattr(module, "__file__", None)
    return found


def buckets(event, context):
    return [b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]]


def fail(event, context):
    print("about to fail")
    raise ValueError(f"cannot handle {event.get('what', 'this')}")


def sleep(event, context):
    time.sleep(event["seconds"])
    return {"pid": os.getpid(), "slept": event["seconds"]}


def leave(event, context):
    sys.exit(3)


def http_answer(event, context):
    """A function URL's function: answers 201 with what it was handed, and a cookie."""
    return {
        "statusCode": 201,
        "headers": {"Content-Type": "application/json", "X-Handled-By": "http_answer"},
        "cookies": ["seen=1"],
        "body": json.dumps(
            {
                "version": event["version"],
                "method": event["requestContext"]["http"]["method"],
                "path": event["rawPath"],
                "query": event.get("queryStringParameters"),
                "header": event["headers"].get("x-mlflow-signature"),
                "body": event.get("body"),
                "base64": event["isBase64Encoded"],
            }
        ),
    }


def plain_result(event, context):
    return {"ok": True}
