"""The command the self-hosted MLflow tracking server's container runs: one place.

The platform template puts it in the Fargate task definition; the tests run the same
command line on 127.0.0.1. It starts ``mlflow server --app-name basic-auth`` (MLflow's
own authentication, no proxy in front), then makes sure the platform's user exists with
the password of its secret, so that the Lambdas and the project builds log in with it.

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
- ``MLFLOW_PORT``: the port (all interfaces).
"""

from __future__ import annotations

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
DATABASE_ENV = ("DB_HOST", "DB_PORT", "DB_NAME", "DB_USERNAME", "DB_PASSWORD")

# Waits for the server's health route, then creates the platform's user as the
# administrator (or sets its password again: the secret may have been rotated).
_ENSURE_PLATFORM_USER = f"""
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
"""

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
mlflow server --app-name basic-auth --host 0.0.0.0 --port "${{{PORT_ENV}}}" \\
  --workers {SERVER_WORKERS} \\
  --backend-store-uri "${{{BACKEND_STORE_URI_ENV}}}" \\
  --artifacts-destination "${{{ARTIFACTS_DESTINATION_ENV}}}" &
server=$!
export MLFLOW_SERVER_PID="$server"
trap 'kill -TERM "$server" 2>/dev/null || true' TERM INT
python - <<'PY' || {{ kill -TERM "$server" 2>/dev/null || true; wait "$server" || true; exit 1; }}
{_ENSURE_PLATFORM_USER.strip()}
PY
wait "$server"
"""


def server_command() -> list[str]:
    """The container's command: ``sh -c`` with the start script (see the module doc)."""
    return ["sh", "-c", _SCRIPT]
