"""The command the self-hosted MLflow tracking server's container runs: one place.

The platform template puts it in the Fargate task definition; the tests run the same
command line on 127.0.0.1. It starts ``mlflow server --app-name basic-auth`` (MLflow's
own authentication, no proxy in front), then makes sure the platform's user exists with
the password of its secret, so that the Lambdas and the project builds log in with it, and
that the server's webhook to the platform's MLflow sync exists with the URL and signing
secret of this platform stack.

The webhook is registered here, not by a Lambda: MLflow lets only an administrator manage
webhooks, and this script is the one place that holds the administrator's password. It runs
at every start of a task (a new task, a new version of the stack), so a changed URL or a
rotated signing secret reaches MLflow then; the sync's scheduled reconcile heals what a
missing webhook would miss in between.

Everything comes from environment variables, which the task definition fills (secrets
through ECS from Secrets Manager, never in the template):

- ``MLFLOW_BACKEND_STORE_URI``: the tracking store; when unset, the PostgreSQL URI is
  composed from ``DB_HOST``, ``DB_PORT``, ``DB_NAME``, ``DB_USERNAME``, ``DB_PASSWORD``.
  The user store of the authentication (``database_uri``) is the same database, so users
  survive a restart of the task.
- ``MLFLOW_ARTIFACTS_DESTINATION``: where artifacts go (``s3://bucket/prefix``); the
  server proxies them, so clients need no S3 permission of their own.
- ``MLFLOW_AUTH_ADMIN_USERNAME``/``MLFLOW_AUTH_ADMIN_PASSWORD``: the administrator MLflow
  creates on its first start against an empty user store.
- ``PLATFORM_USERNAME``/``PLATFORM_PASSWORD``: the platform's user (created, or its
  password set again when the secret changed).
- ``MLFLOW_FLASK_SERVER_SECRET_KEY``: the key of the auth app's CSRF protection (the same
  in every task).
- ``PLATFORM_WEBHOOK_URL``/``PLATFORM_WEBHOOK_SECRET``: where MLflow delivers alias events
  (the MLflow sync's function URL) and the secret it signs them with; no webhook when the
  URL is empty.
- ``MLFLOW_PORT``: the port (all interfaces).
"""

from __future__ import annotations

from lambda_project_lifecycle.triggers import MLFLOW_WEBHOOK_EVENTS

SERVER_PORT = 5000
# MLflow starts 4 by default, each with its own copy of MLflow in memory: 2 fit the task's
# 1 GB beside the start script, and a tracking server of one team is never CPU bound.
SERVER_WORKERS = 2
HEALTH_PATH = "/health"  # answered without credentials (MLflow's unprotected routes)
AUTH_CONFIG_PATH = "/tmp/mlflow-basic-auth.ini"
# New users may read every experiment and model; a user who creates one manages it.
DEFAULT_PERMISSION = "READ"

# Environment variables the command reads (the task definition sets them).
BACKEND_STORE_URI_ENV = "MLFLOW_BACKEND_STORE_URI"
ARTIFACTS_DESTINATION_ENV = "MLFLOW_ARTIFACTS_DESTINATION"
ADMIN_USERNAME_ENV = "MLFLOW_AUTH_ADMIN_USERNAME"
ADMIN_PASSWORD_ENV = "MLFLOW_AUTH_ADMIN_PASSWORD"
PLATFORM_USERNAME_ENV = "PLATFORM_USERNAME"
PLATFORM_PASSWORD_ENV = "PLATFORM_PASSWORD"
PORT_ENV = "MLFLOW_PORT"
SERVER_SECRET_KEY_ENV = "MLFLOW_FLASK_SERVER_SECRET_KEY"
WEBHOOK_URL_ENV = "PLATFORM_WEBHOOK_URL"
WEBHOOK_SECRET_ENV = "PLATFORM_WEBHOOK_SECRET"
WEBHOOK_KEY_ENV = "MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY"
WEBHOOK_NAME = "mlops-portfolio-sync"  # the platform's one webhook, found again by its name
DATABASE_ENV = ("DB_HOST", "DB_PORT", "DB_NAME", "DB_USERNAME", "DB_PASSWORD")

# Waits for the server's health route, then creates the platform's user as the
# administrator (or sets its password again: the secret may have been rotated).
START_STEPS = f"""
import os, time, urllib.request
from mlflow.exceptions import RestException
from mlflow.server.auth.client import AuthServiceClient

uri = "http://127.0.0.1:" + os.environ["{PORT_ENV}"]
for _ in range(240):
    os.kill(int(os.environ["MLFLOW_SERVER_PID"]), 0)  # stops here when the server ended
    try:
        urllib.request.urlopen(uri + "{HEALTH_PATH}", timeout=2).close()
        break
    except OSError:
        time.sleep(0.25)
else:
    raise SystemExit("mlflow server did not answer {HEALTH_PATH} within 60 s")
os.environ["MLFLOW_TRACKING_USERNAME"] = os.environ["{ADMIN_USERNAME_ENV}"]
os.environ["MLFLOW_TRACKING_PASSWORD"] = os.environ["{ADMIN_PASSWORD_ENV}"]
client = AuthServiceClient(uri)
name, password = os.environ["{PLATFORM_USERNAME_ENV}"], os.environ["{PLATFORM_PASSWORD_ENV}"]
try:
    client.create_user(name, password)
except RestException as exc:
    if exc.error_code != "RESOURCE_ALREADY_EXISTS":
        raise
    client.update_user_password(name, password)
print("platform user ready:", name, flush=True)

# The webhook (see the module doc). Not registered: the server still serves, and says why;
# the scheduled reconcile deploys what deliveries would have.
url = os.environ.get("{WEBHOOK_URL_ENV}", "")
if url:
    import sys
    from mlflow import MlflowClient

    registry = MlflowClient(tracking_uri=uri)
    settings = dict(
        url=url, events={list(MLFLOW_WEBHOOK_EVENTS)!r}, secret=os.environ["{WEBHOOK_SECRET_ENV}"]
    )
    try:
        found, token = None, None
        while found is None:
            page = registry.list_webhooks(max_results=100, page_token=token)
            found = next((hook for hook in page if hook.name == "{WEBHOOK_NAME}"), None)
            token = page.token
            if not token:
                break
        if found is None:
            registry.create_webhook(name="{WEBHOOK_NAME}", **settings)
        else:  # its secret cannot be read back: set again, with the URL and events
            registry.update_webhook(found.webhook_id, status="ACTIVE", **settings)
        print("platform webhook ready:", url, flush=True)
    except Exception as exc:
        print("platform webhook NOT registered:", url, exc, file=sys.stderr, flush=True)
"""

# MLflow encrypts the webhooks' signing secrets in its database with this Fernet key; unset,
# each worker makes up its own, and a secret one worker stored no other (and no later task)
# can read: every delivery then fails. Derived from the CSRF key, so the same in every worker
# and task; a rotated CSRF key does no harm to the platform's webhook, whose secret this
# script stores again at each start.
_DERIVE_WEBHOOK_KEY = (
    "import base64, hashlib, os; print(base64.urlsafe_b64encode(hashlib.sha256("
    f'b"mlflow-webhook-secrets:" + os.environ["{SERVER_SECRET_KEY_ENV}"].encode()'
    ").digest()).decode())"
)

_SCRIPT = f"""set -eu
: "${{{BACKEND_STORE_URI_ENV}:=postgresql://${{DB_USERNAME}}:${{DB_PASSWORD}}@${{DB_HOST}}:${{DB_PORT}}/${{DB_NAME}}}}"
export {BACKEND_STORE_URI_ENV}
cat > {AUTH_CONFIG_PATH} <<EOF
[mlflow]
default_permission = {DEFAULT_PERMISSION}
database_uri = ${{{BACKEND_STORE_URI_ENV}}}
authorization_function = mlflow.server.auth:authenticate_request_basic_auth
EOF
export MLFLOW_AUTH_CONFIG_PATH={AUTH_CONFIG_PATH}
export MLFLOW_SQLALCHEMYSTORE_POOLCLASS=NullPool
{WEBHOOK_KEY_ENV}=$(python -c '{_DERIVE_WEBHOOK_KEY}')
export {WEBHOOK_KEY_ENV}
mlflow server --app-name basic-auth --host 0.0.0.0 --port "${{{PORT_ENV}}}" \\
  --workers {SERVER_WORKERS} \\
  --backend-store-uri "${{{BACKEND_STORE_URI_ENV}}}" \\
  --artifacts-destination "${{{ARTIFACTS_DESTINATION_ENV}}}" &
server=$!
export MLFLOW_SERVER_PID="$server"
trap 'kill -TERM "$server" 2>/dev/null || true' TERM INT
python - <<'PY' || {{ kill -TERM "$server" 2>/dev/null || true; wait "$server" || true; exit 1; }}
{START_STEPS.strip()}
PY
wait "$server"
"""


def server_command() -> list[str]:
    """The container's command: ``sh -c`` with the start script (see the module doc)."""
    return ["sh", "-c", _SCRIPT]
