"""Time from a Create event to the SUCCESS answer, for a project seeded on a local git server.

    .venv/bin/python benchmarks/repository_create.py [--runs 7] [--seed-dir seed_code]

Each run builds a fresh emulated account (moto, the local ``git http-backend``
server on 127.0.0.1, the seed-code zip in the artifacts bucket; not timed),
then times one Create through the real handler until the answer reaches the
local ResponseURL listener: read the seed zip, build the commit, make the
repository, push ``prod`` and ``dev``, model groups, registry records. Two
providers: ``codecommit`` (SigV4 push, checked by the server) and ``git`` (any
URL, basic auth). Also reports the Lambda zip size and the cold import time of
the handler module. Targets: median under 2 s, zip under 2 MB.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TARGET_SECONDS = 2.0
TARGET_ZIP_BYTES = 2 * 1024 * 1024


def offline_environment() -> None:
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(key, None)
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )


def seed_zips(seed_dir: Path) -> dict[str, bytes]:
    from portfolio_build.render import package_seed_code

    with tempfile.TemporaryDirectory() as dist:
        return {a.name: a.path.read_bytes() for a in package_seed_code(Path(dist), seed_dir)}


def one_create(provider: str, zips: dict[str, bytes]) -> float:
    """Seconds from handing the Create event to the handler to the answer's arrival."""
    from lambda_project_lifecycle.lifecycle import handle_event
    from sandbox.cloudformation import LambdaContext, ResponseListener
    from sandbox.git_server import GitHttpServer, basic_auth
    from tests.lambda_project_lifecycle.conftest import emulated_aws, upload_seed_code
    from tests.support.events import load_event

    listener = ResponseListener().start()
    with emulated_aws() as aws, tempfile.TemporaryDirectory() as root:
        upload_seed_code(aws.s3, zips)
        event = load_event("cfn-project-lifecycle-create.json", ResponseURL=listener.url())
        server = None
        if provider == "git":
            server = GitHttpServer(Path(root), basic_auth("robot", "pw")).start()
            server.add_repository("/ml/churn.git")
            secret = aws.secretsmanager.create_secret(
                Name="mlops-portfolio/bench",
                SecretString='{"Username": "robot", "Token": "pw", "Hosts": ["127.0.0.1"]}',
            )["ARN"]
            event["ResourceProperties"].update(
                RepositoryProvider="git",
                RepositoryUrl=server.url("/ml/churn.git"),
                RepositorySecretArn=secret,
            )
        try:
            started = time.perf_counter()
            handle_event(event, LambdaContext(), clients=aws.clients, settings=aws.settings)
            answer = listener.wait_for(1, timeout=60)[0]
            elapsed = time.perf_counter() - started
        finally:
            if server is not None:
                server.stop()
            listener.stop()
    if answer["Status"] != "SUCCESS":
        raise SystemExit(f"Create failed: {answer['Reason']}")
    return elapsed


def cold_import_seconds() -> float:
    code = (
        "import time; t = time.perf_counter(); "
        "import lambda_project_lifecycle.lifecycle, lambda_project_lifecycle.repositories.seed, "
        "dulwich.client; print(time.perf_counter() - t)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    return float(result.stdout.strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seed-dir", type=Path, default=REPO / "seed_code")
    args = parser.parse_args()
    offline_environment()

    from portfolio_build.render import package_lambda

    zips = seed_zips(args.seed_dir)
    files = {name: len(data) for name, data in zips.items()}
    print(f"seed code: {args.seed_dir} (zip bytes: {files})")
    ok = True
    for provider in ("codecommit", "git"):
        one_create(provider, zips)  # warm-up: imports, service models, first subprocess
        times = [one_create(provider, zips) for _ in range(args.runs)]
        median = statistics.median(times)
        ok = ok and median < TARGET_SECONDS
        print(
            f"{provider:>10}: Create -> SUCCESS median {median:.3f} s "
            f"(min {min(times):.3f}, max {max(times):.3f}, {args.runs} runs; "
            f"target < {TARGET_SECONDS} s)"
        )
    with tempfile.TemporaryDirectory() as dist:
        zip_bytes = package_lambda(Path(dist)).path.stat().st_size
    ok = ok and zip_bytes < TARGET_ZIP_BYTES
    print(
        f"lambda zip: {zip_bytes} bytes ({zip_bytes / 1024:.1f} KiB; target < {TARGET_ZIP_BYTES})"
    )
    print(f"cold import of the handler with dulwich: {cold_import_seconds():.3f} s")
    print(f"cpus: {os.cpu_count()}, python {sys.version.split()[0]}")
    print("result:", "within targets" if ok else "OVER TARGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
