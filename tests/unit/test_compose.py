"""docker-compose.yml and the Dockerfile, checked statically (there is no Docker engine here).

What a person with Docker needs from them: the image holds what `make run` installs (the local
extras, the model, the built panel); every service a browser needs is published on the host's
loopback (API, panel, sandbox, emulator); the URLs the app makes for the browser (presigned uploads,
the panel, the sandbox's sign-in page, the MercadoLibre callback) point where the browser reaches.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
EMULATORS = ("localstack", "moto")
STACK = (ROOT / "infra" / "local" / "stack.py").read_text()


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return document


@pytest.fixture(scope="module")
def dockerfile() -> list[str]:
    """Instructions, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment in either compose syntax (mapping or list of KEY=VALUE)."""
    env = service.get("environment", {})
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def healthcheck_command(service: dict[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    return " ".join(test) if isinstance(test, list) else test


def published_ports(service: dict[str, Any]) -> list[tuple[str | None, str, str]]:
    """(host_ip, published, target) for short and long port syntax."""
    ports: list[tuple[str | None, str, str]] = []
    for port in service.get("ports", []):
        if isinstance(port, dict):
            ports.append((port.get("host_ip"), str(port.get("published")), str(port["target"])))
            continue
        parts = str(port).split(":")
        if len(parts) == 3:
            ports.append((parts[0], parts[1], parts[2]))
        elif len(parts) == 2:
            ports.append((None, parts[0], parts[1]))
        else:
            ports.append((None, parts[0], parts[0]))
    return ports


def apps(compose: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """emulator name -> (app service name, app service): the app that runs with that emulator's profile."""
    found = {}
    for name, service in compose["services"].items():
        if name in EMULATORS:
            continue
        [profile] = service["profiles"]
        [emulator] = [e for e in EMULATORS if compose["services"][e]["profiles"] == [profile]]
        found[emulator] = (name, service)
    return found


def make_run_installs() -> tuple[list[str], str]:
    """The requirements files `make`'s install step installs, and the command `make models` runs."""
    makefile = (ROOT / "Makefile").read_text()
    [install] = [line for line in makefile.splitlines() if "pip install" in line and " -r " in line]
    files = re.findall(r"-r\s+(\S+)", install)
    [models] = [line.strip() for line in makefile.splitlines() if "-m infra.local.models" in line]
    return files, models.replace("$(BIN)/python", "python")


def test_services_exist(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"localstack", "moto", "app", "app-localstack"}


@pytest.mark.parametrize("name", EMULATORS)
def test_emulators_are_opt_in_and_health_checked(compose: dict[str, Any], name: str) -> None:
    service = compose["services"][name]
    assert service.get("profiles"), f"{name} must only start with its profile"
    assert service["healthcheck"]["test"]


def test_localstack_health_and_token(compose: dict[str, Any]) -> None:
    localstack = compose["services"]["localstack"]
    assert localstack["image"].startswith("localstack/localstack:")
    assert "http://localhost:4566/_localstack/health" in healthcheck_command(localstack)
    env = environment(localstack)
    assert "LOCALSTACK_AUTH_TOKEN" in env["LOCALSTACK_AUTH_TOKEN"]
    assert set(env["SERVICES"].split(",")) == {"s3", "sqs", "dynamodb"}


def test_moto_listens_where_the_app_looks(compose: dict[str, Any]) -> None:
    moto = compose["services"]["moto"]
    assert moto["image"] == "motoserver/moto:5.2.5"
    command = moto["command"]
    assert command[command.index("-H") + 1] == "0.0.0.0"  # noqa: S104  (inside its container)
    assert command[command.index("-p") + 1] == "4566"
    assert "http://localhost:4566/moto-api/" in healthcheck_command(moto)
    for _, app in apps(compose).values():
        assert urlparse(environment(app)["AWS_ENDPOINT_URL"]).port == 4566


def test_every_published_port_is_on_loopback(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for host_ip, published, _target in published_ports(service):
            assert host_ip == "127.0.0.1", f"{name} publishes {published} on all interfaces"


@pytest.mark.parametrize("emulator", EMULATORS)
def test_each_emulator_has_an_app_in_its_network_namespace(compose: dict[str, Any], emulator: str) -> None:
    name, app = apps(compose)[emulator]
    assert app["network_mode"] == f"service:{emulator}", name
    assert app["depends_on"] == {emulator: {"condition": "service_healthy"}}
    assert "ports" not in app and "networks" not in app, "a service in another's namespace publishes nothing"
    assert "./.local:/app/.local" in app["volumes"]


@pytest.mark.parametrize("emulator", EMULATORS)
def test_every_service_a_browser_needs_is_published_on_the_host(
    compose: dict[str, Any], emulator: str
) -> None:
    """The namespace's owner publishes the API, the panel, the sandbox and the emulator, each on the
    same port on the host, so the URLs the stack makes with 127.0.0.1:<port> work in the browser."""
    _, app = apps(compose)[emulator]
    env = environment(app)
    ports = {
        "API": env["API_PORT"],
        "panel": env["PANEL_PORT"],
        "sandbox": env["SANDBOX_PORT"],
        "emulator": str(urlparse(env["AWS_ENDPOINT_URL"]).port),
    }
    published = published_ports(compose["services"][emulator])
    for what, port in ports.items():
        assert ("127.0.0.1", port, port) in published, f"{emulator} does not publish the {what} ({port})"
    # The stack reads these names (so the published ports are the ones it listens on).
    for variable in ("API_PORT", "PANEL_PORT", "SANDBOX_PORT", "LISTEN_HOST"):
        assert f'os.environ.get("{variable}"' in STACK, variable
    assert re.search(rf"http://localhost:{env['API_PORT']}/api/v1/health\b", healthcheck_command(app))


@pytest.mark.parametrize("emulator", EMULATORS)
def test_presigned_urls_use_an_endpoint_the_browser_reaches(compose: dict[str, Any], emulator: str) -> None:
    """The API signs upload forms and photo links for AWS_ENDPOINT_URL (chalicelib/store/blobs.py):
    a loopback address, which inside the shared namespace is the emulator and on the host is the
    emulator's published port."""
    _, app = apps(compose)[emulator]
    endpoint = urlparse(environment(app)["AWS_ENDPOINT_URL"])
    assert endpoint.hostname == "127.0.0.1"
    assert ("127.0.0.1", str(endpoint.port), str(endpoint.port)) in published_ports(
        compose["services"][emulator]
    )
    assert app["network_mode"] == f"service:{emulator}"


def test_the_image_installs_what_make_run_installs(dockerfile: list[str]) -> None:
    files, models = make_run_installs()
    assert set(files) == {"requirements-dev.txt", "requirements-local.txt"}
    [install] = [line for line in dockerfile if line.startswith("RUN pip install")]
    assert re.findall(r"-r\s+(\S+)", install) == files
    [copy] = [line for line in dockerfile if line.startswith("COPY requirements")]
    assert set(files) | {"requirements.txt"} <= set(shlex.split(copy)[1:-1])  # -r requirements.txt inside
    assert f"RUN {models}" in dockerfile, f"the model, as `make models` fetches it: {models}"
    assert dockerfile.index(f"RUN {models}") > dockerfile.index("COPY . .")  # infra/local/models.py is there


def test_the_image_builds_and_serves_the_panel(dockerfile: list[str]) -> None:
    stages = [line for line in dockerfile if line.startswith("FROM ")]
    node = re.fullmatch(r"FROM node:(\d+)(?:\.(\d+))?\S* AS panel", stages[0])
    assert node and (int(node[1]), int(node[2] or 99)) >= (20, 19), stages[0]  # `make web`'s minimum
    assert stages[-1] == "FROM python:3.11-slim"
    assert "RUN npm ci --no-audit --no-fund" in dockerfile and "RUN npm run build" in dockerfile
    assert "COPY --from=panel /web/build web/build" in dockerfile  # where infra/local/stack.py looks
    assert 'PANEL_BUILD = ROOT / "web" / "build"' in STACK
    env = " ".join(line for line in dockerfile if line.startswith("ENV "))
    assert "PANEL=on" in env and "LISTEN_HOST=0.0.0.0" in env
    [expose] = [line for line in dockerfile if line.startswith("EXPOSE")]
    assert {"8000", "8080", "8300"} <= set(expose.split()[1:])
    cmd = [line for line in dockerfile if line.startswith("CMD ")][-1]
    assert json.loads(cmd.removeprefix("CMD ")) == ["python", "-m", "infra.local.stack"]


def test_dockerignore_keeps_local_state_and_builds_out() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".venv", ".local", "build", "web/node_modules", "web/build", ".git", ".cache"} <= ignored


def test_the_readme_says_the_compose_path_is_checked_statically() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "tests/unit/test_compose.py" in readme and "statically" in readme
