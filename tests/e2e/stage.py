"""A deployed stage in the emulator, driven as AWS drives it: the helpers of test_stack_in_emulator.py.

`Stage` runs each Lambda function of the Terraform-applied stack in its own `lambda_host.py`
process: the code Terraform uploaded (the unzipped deployment.zip, and the layers the function has),
under `python -S`, with the environment Terraform gave the function (read back from the emulator's
Lambda). Only the endpoints differ from AWS, each named in `ENDPOINT_SETTINGS`: the emulator, and
local servers speaking Gemini's, PhotoRoom's and MercadoLibre's wire formats. S3 events are
delivered as S3 would: every new object goes, as an S3 event record, to the function the bucket's
notification configuration (as Terraform applied it) names for its prefix and suffix.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote_plus, urlsplit

import boto3

from infra.local.environment import EMULATOR_CREDENTIALS, ROOT

HOST = ROOT / "tests" / "e2e" / "lambda_host.py"
MARKER = "@@RESULT "
# Settings whose value in AWS is an outside service's address, and what they become here.
ENDPOINT_SETTINGS = (
    "AWS_ENDPOINT_URL",
    "MERCADOLIBRE_API_URL",
    "MERCADOLIBRE_AUTH_URL",
    "GEMINI_BASE_URL",
    "PHOTOROOM_BASE_URL",
)


def client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=EMULATOR_CREDENTIALS["AWS_DEFAULT_REGION"],
        aws_access_key_id=EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def code_sha256(path: Path) -> str:
    """Lambda's CodeSha256: base64 of the zip's SHA-256."""
    return base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()


class Host:
    """One function's process; `call` hands it one request and returns its answer."""

    def __init__(
        self, name: str, configuration: dict[str, Any], env: dict[str, str], python_path: list[Path]
    ):
        self.name = name
        self.output: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-S", str(HOST), configuration["Handler"], name,
             str(configuration["Timeout"]), str(configuration["MemorySize"])],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**env, "PYTHONPATH": ":".join(str(p) for p in python_path)},
            cwd=python_path[0],
        )  # fmt: skip
        self.ready = self._answer()
        assert self.ready.get("ready"), self.ready

    def _answer(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith(MARKER):
                answer: dict[str, Any] = json.loads(line[len(MARKER) :])
                return answer
            self.output.append(line.rstrip())
        raise AssertionError(f"{self.name} exited: " + "\n".join(self.output[-40:]))

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        return self._answer()

    def stop(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            self.process.wait(30)


@dataclass
class Stage:
    endpoint: str
    outputs: dict[str, Any]
    package: Path  # the folder Terraform applied: deployment.zip and the layer beside it
    folder: Path
    endpoints: dict[str, str]  # ENDPOINT_SETTINGS' values
    stage: str = "dev"
    hosts: dict[str, Host] = field(default_factory=dict)
    delivered: list[tuple[str, str]] = field(default_factory=list)  # (function, key)
    seen: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.lambda_ = client("lambda", self.endpoint)
        self.s3 = client("s3", self.endpoint)
        self.bucket = self.outputs["media_bucket_name"]
        self.names = self.outputs["function_names"]  # chalice name -> function name
        self.code = self._unzip(self.package / "deployment.zip", "task")
        self.routes = self._routes()

    def _unzip(self, archive: Path, name: str) -> Path:
        target = self.folder / name
        if not target.exists():
            with zipfile.ZipFile(archive) as opened:
                opened.extractall(target)
        return target

    def configuration(self, function: str) -> dict[str, Any]:
        found: dict[str, Any] = self.lambda_.get_function_configuration(FunctionName=self.names[function])
        return found

    def environment(self, function: str) -> dict[str, str]:
        """What Lambda gives the function: Terraform's variables, the runtime's own, the endpoints."""
        configuration = self.configuration(function)
        env = dict(configuration["Environment"]["Variables"])
        env.update(
            {
                **EMULATOR_CREDENTIALS,
                "AWS_REGION": EMULATOR_CREDENTIALS["AWS_DEFAULT_REGION"],
                "AWS_LAMBDA_FUNCTION_NAME": configuration["FunctionName"],
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(configuration["MemorySize"]),
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "LAMBDA_TASK_ROOT": str(self.code),
                "PATH": "/usr/bin:/bin",
                **self.endpoints,
            }
        )
        return env

    def python_path(self, function: str) -> list[Path]:
        """/var/task, then each layer's python/ (Lambda's order); a layer's /opt paths move here."""
        paths = [self.code]
        for layer in self.configuration(function).get("Layers", []):
            name = layer["Arn"].split(":layer:")[1].split(":")[0]
            local = self._unzip(self.package / "local-remover-layer.zip", name)
            paths.append(local / "python")
        return paths

    def layer_root(self, function: str) -> Path | None:
        paths = self.python_path(function)
        return paths[1].parent if len(paths) > 1 else None

    def start(self, function: str, env: dict[str, str] | None = None) -> Host:
        """A fresh process for `function` (a cold start: nothing cached, SSM read again)."""
        if function in self.hosts:
            self.hosts.pop(function).stop()
        env = env or self.environment(function)
        layer = self.layer_root(function)
        if layer is not None:  # what the configuration says is in /opt is in the unzipped layer here
            env = {k: v.replace("/opt/", f"{layer}/") for k, v in env.items()}
        self.hosts[function] = Host(
            self.names[function], self.configuration(function), env, self.python_path(function)
        )
        return self.hosts[function]

    def host(self, function: str) -> Host:
        return self.hosts.get(function) or self.start(function)

    def stop(self) -> None:
        for host in self.hosts.values():
            host.stop()
        self.hosts.clear()

    # -- the API, through API Gateway's proxy event ----------------------------------------------

    def api(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        query: dict[str, str] | None = None,
        cookie: str | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        headers = {"Content-Type": "application/json", "Host": "api.example"}
        if cookie:
            headers["Cookie"] = cookie
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = {
            "method": method,
            "path": f"/api/v1{path}",
            "query": query,
            "headers": headers,
            "body": None if body is None else json.dumps(body),
        }
        answer = self.host("api_handler").call({"stage": "api", "http": request})
        assert "error" not in answer, answer["error"]
        text = answer["body"] or ""
        return answer["status"], answer["headers"], json.loads(text) if text.startswith(("{", "[")) else text

    # -- S3 events -------------------------------------------------------------------------------

    def _routes(self) -> list[tuple[str, str, str]]:
        """(prefix, suffix, chalice function) from the bucket's notification configuration."""
        by_name = {name: function for function, name in self.names.items()}
        routes = []
        configuration = self.s3.get_bucket_notification_configuration(Bucket=self.bucket)
        for entry in configuration.get("LambdaFunctionConfigurations", []):
            rules = {r["Name"].lower(): r["Value"] for r in entry["Filter"]["Key"]["FilterRules"]}
            function_name = entry["LambdaFunctionArn"].split(":function:")[1].split(":")[0]
            routes.append((rules.get("prefix", ""), rules.get("suffix", ""), by_name[function_name]))
        return routes

    def settle(self, rounds: int = 20) -> list[tuple[str, str]]:
        """Deliver every object created since the last call to its function, until none is new."""
        done: list[tuple[str, str]] = []
        for _ in range(rounds):
            fresh = [
                item
                for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
                for item in page.get("Contents", [])
                if item["Key"] not in self.seen
            ]
            if not fresh:
                return done
            for item in sorted(fresh, key=lambda i: i["LastModified"]):
                self.seen.add(item["Key"])
                for prefix, suffix, function in self.routes:
                    if item["Key"].startswith(prefix) and item["Key"].endswith(suffix):
                        answer = self.host(function).call({"event": self.s3_event(item)})
                        assert "error" not in answer, f"{function} failed on {item['Key']}: {answer['error']}"
                        done.append((function, item["Key"]))
        raise AssertionError(f"still new objects after {rounds} rounds: {done[-5:]}")

    def s3_event(self, item: dict[str, Any]) -> dict[str, Any]:
        return {
            "Records": [
                {
                    "eventVersion": "2.1",
                    "eventSource": "aws:s3",
                    "awsRegion": EMULATOR_CREDENTIALS["AWS_DEFAULT_REGION"],
                    "eventTime": item["LastModified"].isoformat(),
                    "eventName": "ObjectCreated:Post"
                    if item["Key"].startswith("uploads/")
                    else "ObjectCreated:Put",
                    "s3": {
                        "s3SchemaVersion": "1.0",
                        "bucket": {"name": self.bucket, "arn": f"arn:aws:s3:::{self.bucket}"},
                        "object": {
                            "key": quote_plus(item["Key"]),
                            "size": item["Size"],
                            "eTag": item["ETag"].strip('"'),
                        },
                    },
                }
            ]
        }


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
