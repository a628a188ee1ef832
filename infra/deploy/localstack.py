"""`make test-localstack`: the integration suite against LocalStack instead of the embedded moto.

Two ways to get an endpoint, both through pytest-localstack:

- `LOCALSTACK_ENDPOINT=http://host:4566` attaches to a LocalStack that is already up
  (`RunningSession`, which checks every service the suite uses before a test runs);
- otherwise, when Docker answers, pytest-localstack starts a LocalStack container for the run
  (`LocalstackSession`) with `LOCALSTACK_AUTH_TOKEN` passed in: images from 2026.03 on need it.

The suite itself is unchanged: `tests/conftest.py` reads `LOCALSTACK_ENDPOINT` and attaches instead
of starting moto, and the app reaches the endpoint through `AWS_ENDPOINT_URL` as it always does.
With neither an endpoint nor Docker this says what is missing and exits 2, running nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any
from urllib.parse import urlsplit

from infra.local.environment import ROOT

# What the integration suite touches (tables, the media bucket, event queues, secrets, functions).
SERVICES = ("dynamodb", "s3", "sqs", "ssm", "lambda", "iam", "sts")
DEFAULT_SUITE = ["tests/integration"]


class LocalStackMissing(RuntimeError):
    pass


def attach(endpoint: str, timeout: float = 30) -> Any:
    """A pytest-localstack `RunningSession` on `endpoint`, once every service answers."""
    from pytest_localstack.exceptions import ServiceError
    from pytest_localstack.exceptions import TimeoutError as ServicesTimeout
    from pytest_localstack.service_checks import SERVICE_CHECKS
    from pytest_localstack.session import RunningSession

    url = urlsplit(endpoint)
    if not url.hostname or url.scheme not in ("http", "https"):
        raise LocalStackMissing(f"LOCALSTACK_ENDPOINT={endpoint!r} is not an http(s)://host:port URL")
    port = url.port or 4566
    session = RunningSession(
        url.hostname,
        services=dict.fromkeys(SERVICES, port),
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        use_ssl=url.scheme == "https",
    )
    try:
        session.start(timeout=timeout)
        # start() can run out of time between two probes and return without raising (0.8.0), so
        # every service is probed once more; a miss raises ServiceError naming the service.
        for name in SERVICES:
            SERVICE_CHECKS[name](session)
    except (ServicesTimeout, ServiceError) as error:
        raise LocalStackMissing(
            f"nothing at {endpoint} answered as AWS within {timeout:.0f} s ({error}); "
            "is LocalStack running there?"
        ) from error
    return session


def boto3_session(endpoint: str) -> Any:
    """boto3 clients on the endpoint through localstack-client (for tests and scripts beside the app)."""
    from localstack_client.session import Session

    url = urlsplit(endpoint)
    return Session(
        localstack_host=f"{url.hostname}:{url.port or 4566}",
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
    )


def docker_problem() -> str | None:
    """Why pytest-localstack cannot start a container here, or None when Docker answers."""
    import docker
    from docker.errors import DockerException

    try:
        docker.from_env().ping()
    except DockerException as error:
        where = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
        return f"Docker does not answer at {where} ({type(error).__name__})"
    return None


def run_suite(endpoint: str, pytest_args: list[str]) -> int:
    env = {**os.environ, "LOCALSTACK_ENDPOINT": endpoint}
    return subprocess.call([sys.executable, "-m", "pytest", *pytest_args], cwd=ROOT, env=env)


def main(argv: list[str] | None = None) -> int:
    pytest_args = list(argv if argv is not None else sys.argv[1:]) or DEFAULT_SUITE
    token = os.environ.get("LOCALSTACK_AUTH_TOKEN")
    endpoint = os.environ.get("LOCALSTACK_ENDPOINT")
    if endpoint:
        try:
            attach(endpoint)
        except LocalStackMissing as error:
            print(f"make test-localstack: {error}", file=sys.stderr)
            return 2
        print(f"Attached to LocalStack at {endpoint}; running {' '.join(pytest_args)}")
        return run_suite(endpoint, pytest_args)

    problem = docker_problem()
    if problem:
        print(
            "make test-localstack cannot run: no LocalStack to test against.\n"
            "  - LOCALSTACK_ENDPOINT is not set (to attach to a running LocalStack, e.g. "
            "LOCALSTACK_ENDPOINT=http://127.0.0.1:4566)\n"
            f"  - {problem}, so pytest-localstack cannot start one\n"
            "Nothing was run. (`make test` runs the same suite on the embedded moto server.)",
            file=sys.stderr,
        )
        return 2

    import docker
    from pytest_localstack import constants
    from pytest_localstack.session import LocalstackSession

    version = os.environ.get("LOCALSTACK_VERSION", constants.DEFAULT_LOCALSTACK_VERSION)
    if not token:
        print(
            f"Note: LOCALSTACK_AUTH_TOKEN is not set; localstack/localstack:{version} starts without "
            "one only if it predates March 2026."
        )
    container_env = {"LOCALSTACK_AUTH_TOKEN": token} if token else {}
    with LocalstackSession(
        docker.from_env(),
        services=list(SERVICES),
        localstack_version=version,
        container_env=container_env,
    ) as session:
        endpoint = session.endpoint_url("s3")
        print(f"LocalStack {version} started by pytest-localstack at {endpoint}")
        return run_suite(endpoint, pytest_args)


if __name__ == "__main__":
    sys.exit(main())
