"""docker-compose.yml and the Dockerfile, checked statically (there is no Docker engine here)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
EMULATORS = ("localstack", "moto")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return document


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


def network_aliases(service: dict[str, Any]) -> dict[str, list[str]]:
    networks = service.get("networks", {})
    if isinstance(networks, list):
        return {name: [] for name in networks}
    return {name: list((config or {}).get("aliases", [])) for name, config in networks.items()}


def test_services_exist(compose: dict[str, Any]) -> None:
    assert {"localstack", "moto", "app"} <= set(compose["services"])


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
    assert command[command.index("-p") + 1] == "4566"
    assert "http://localhost:4566/moto-api/" in healthcheck_command(moto)


def test_every_published_port_is_on_loopback(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for host_ip, published, _target in published_ports(service):
            assert host_ip == "127.0.0.1", f"{name} publishes {published} on all interfaces"


def test_app_reaches_either_emulator_by_alias(compose: dict[str, Any]) -> None:
    app = compose["services"]["app"]
    endpoint = urlparse(environment(app)["AWS_ENDPOINT_URL"])
    app_networks = set(network_aliases(app))
    for name in EMULATORS:
        aliases = network_aliases(compose["services"][name])
        shared = app_networks & set(aliases)
        assert shared, f"app and {name} share no network"
        assert any(endpoint.hostname in aliases[network] for network in shared), name
        # Both emulators listen on the endpoint's port inside the network.
        assert any(
            target == str(endpoint.port)
            for _ip, _published, target in published_ports(compose["services"][name])
        )


def test_app_serves_the_api_outside_its_container(compose: dict[str, Any]) -> None:
    app = compose["services"]["app"]
    env = environment(app)
    # All interfaces of the container only: the published port stays on the host's loopback.
    assert env["API_HOST"] == "0.0.0.0"  # noqa: S104
    port = env["API_PORT"]
    assert re.search(rf"http://localhost:{port}/api/v1/health\b", healthcheck_command(app))
    assert ("127.0.0.1", port, port) in published_ports(app)
    assert "./.local:/app/.local" in app["volumes"]


def test_app_waits_for_whichever_emulator_runs(compose: dict[str, Any]) -> None:
    depends_on = compose["services"]["app"]["depends_on"]
    for name in EMULATORS:
        assert depends_on[name] == {"condition": "service_healthy", "required": False}


def test_dockerfile_runs_the_local_stack(compose: dict[str, Any]) -> None:
    build = compose["services"]["app"]["build"]
    dockerfile = ROOT / build.get("context", ".") / build.get("dockerfile", "Dockerfile")
    lines = [line.strip() for line in dockerfile.read_text().splitlines()]
    assert next(line for line in lines if line.startswith("FROM ")) == "FROM python:3.11-slim"
    assert any(line.startswith("RUN pip install -r requirements-dev.txt") for line in lines)
    cmd = [line for line in lines if line.startswith("CMD ")][-1]
    assert json.loads(cmd.removeprefix("CMD ")) == ["python", "-m", "infra.local.stack"]


def test_dockerignore_keeps_local_state_out() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".venv", ".local", "build", "web/node_modules", ".git"} <= ignored
