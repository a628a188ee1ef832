"""The whole stack, as `make deploy` builds it, applied by Terraform to a moto server of its own,
checked against what the code expects, walked by a seller from sign-up to a published listing with
the production adapters, then destroyed (infra/deploy/emulator.py says what moto cannot take: API
Gateway and CloudFront, covered here by their plan).

The walk runs each function from the deployment package Terraform uploaded, with the environment
Terraform gave it (tests/e2e/stage.py); only the endpoints differ: the emulator, the MercadoLibre
sandbox, and a local server speaking Gemini's and PhotoRoom's wire formats. The operator's part is
done as README "Secrets" says: the four SecureStrings, and TF_VAR_mercadolibre_client_id.

Tests here run in order and share the applied stack: the last one destroys it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from bench.cost import serving  # a WSGI app on a free loopback port, for the sandbox
from chalicelib.config import SETTINGS, Source
from infra.deploy.emulator import EDGE_FILES, EmulatorStack, planned_resources, requirements_problem
from infra.deploy.settings import function_environment, missing_settings
from infra.local import emulator
from infra.local.environment import stage_environment
from tests.conftest import stop_process_group
from tests.e2e.stage import ENDPOINT_SETTINGS, Stage, client, code_sha256, query_of
from tests.photos import grocery_photo

pytestmark = pytest.mark.e2e

STAGE = "dev"
EVENT_FUNCTIONS = ("ingest", "images", "content", "publish")
# The edge, applied in AWS, planned here (infra/deploy/emulator.py, api.tf, cdn.tf).
EDGE = {
    "aws_api_gateway_rest_api.rest_api",
    "aws_api_gateway_deployment.rest_api",
    "aws_lambda_permission.rest_api_invoke",
    "aws_api_gateway_method_settings.all",
    'aws_api_gateway_method_settings.route["add_images"]',
    'aws_api_gateway_method_settings.route["create_product"]',
    "aws_cloudfront_distribution.panel",
    "aws_cloudfront_function.panel_routes",
    "aws_cloudfront_response_headers_policy.panel",
}
SECRETS = {  # what the operator puts (README: Secrets); the sandbox's app secret, throwaway keys
    "JWT_SECRET": "j" * 48,
    "MERCADOLIBRE_CLIENT_SECRET": "local-sandbox-secret",
    "GEMINI_API_KEY": "AIzaStageWalkKey",
    "PHOTOROOM_API_KEY": "sk_pr_stage_walk",
}
PROMPT = "leche de avena oatly 1 litro"


@dataclass
class Applied:
    stack: EmulatorStack
    plan: dict[str, Any]
    outputs: dict[str, Any]
    seconds: dict[str, float] = field(default_factory=dict)
    destroyed: bool = False

    def client(self, service: str) -> Any:
        return client(service, self.stack.endpoint)


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Applied]:
    problem = requirements_problem()
    if problem:
        pytest.fail(f"Applying the stack needs what this machine lacks: {problem}", pytrace=False)
    folder = tmp_path_factory.mktemp("stack")
    port = emulator.free_port()
    moto = emulator.start_moto(port, log=folder / "moto.log")
    stack = EmulatorStack(folder, f"http://127.0.0.1:{port}", STAGE, {"mercadolibre_client_id": CLIENT_ID})
    seconds = {}
    try:
        for step in ("prepare", "init"):
            started = time.monotonic()
            getattr(stack, step)()
            seconds[step] = time.monotonic() - started
        # The plan (its own root and state, nothing refreshed) runs while the apply waits on moto.
        started = time.monotonic()
        with ThreadPoolExecutor(1) as planner:
            planning = planner.submit(stack.plan)
            outputs = stack.apply()
            seconds["apply"] = time.monotonic() - started
            plan = planning.result()
        seconds["plan and apply"] = time.monotonic() - started
        result = Applied(stack, plan, outputs, seconds)
        yield result
        if not result.destroyed:  # an earlier failure: still leave nothing behind
            stack.empty(_buckets(result))
            stack.destroy()
    finally:
        rounded = {step: round(value) for step, value in seconds.items()}
        print(f"\nTerraform against the emulator, seconds: {json.dumps(rounded)}")
        stop_process_group(moto)


CLIENT_ID = "1234567890123456"  # the sandbox's documented app (infra/local/mercadolibre/state.py)


def _buckets(applied: Applied) -> list[str]:
    return [
        applied.outputs[name]
        for name in ("media_bucket_name", "panel_bucket_name", "access_logs_bucket_name")
    ]


def _managed(addresses: list[str]) -> set[str]:
    return {address for address in addresses if not address.startswith("data.") and ".data." not in address}


def _dev_table(model: Any) -> str:
    local = stage_environment("local")
    [variable] = [name for name, value in local.items() if value == model.Meta.table_name]
    return stage_environment(STAGE)[variable]


# -- what moto cannot take, planned ------------------------------------------------------------------


def test_moto_applies_everything_but_the_edge_which_is_planned(applied: Applied) -> None:
    planned = {r["address"]: r for r in planned_resources(applied.plan) if r["mode"] == "managed"}
    state = _managed(applied.stack.state())
    assert state <= set(planned), f"applied but not in the real plan: {sorted(state - set(planned))}"
    assert set(planned) - state == EDGE, (
        f"planned, not applied, not edge: {sorted(set(planned) - state - EDGE)}"
    )
    assert {path.name for path in applied.stack.full.glob("*.tf")} >= set(EDGE_FILES)


def test_the_planned_edge_serves_the_panel_and_the_api_as_designed(applied: Applied) -> None:
    # Values known before apply only (a value computed by AWS is absent from the plan's values).
    planned = {
        r["address"]: r.get("values", {}) for r in planned_resources(applied.plan) if r["mode"] == "managed"
    }
    rest_api = planned["aws_api_gateway_rest_api.rest_api"]
    assert rest_api["name"] == "intellipost" and rest_api["endpoint_configuration"][0]["types"] == [
        "REGIONAL"
    ]
    assert planned["aws_api_gateway_deployment.rest_api"]["stage_name"] == "api"
    permission = planned["aws_lambda_permission.rest_api_invoke"]
    assert (permission["principal"], permission["qualifier"]) == ("apigateway.amazonaws.com", "live")
    everything = planned["aws_api_gateway_method_settings.all"]["settings"][0]
    assert (everything["throttling_rate_limit"], everything["throttling_burst_limit"]) == (10, 20)
    route = planned['aws_api_gateway_method_settings.route["create_product"]']
    assert (
        route["method_path"] == "~1api~1v1~1products/POST"
        and route["settings"][0]["throttling_rate_limit"] == 2
    )

    distribution = planned["aws_cloudfront_distribution.panel"]
    origins = {origin["origin_id"]: origin for origin in distribution["origin"]}
    assert origins["api"]["origin_path"] == "/api"
    assert origins["api"]["custom_origin_config"][0]["origin_protocol_policy"] == "https-only"
    assert (
        origins["panel-bucket"]["custom_origin_config"] == []
    )  # the bucket, read through its access control
    default = distribution["default_cache_behavior"][0]
    assert default["viewer_protocol_policy"] == "redirect-to-https"
    assert default["cache_policy_id"] == "658327ea-f89d-4fab-a63d-7e88639e58f6"  # Managed-CachingOptimized
    [api] = distribution["ordered_cache_behavior"]
    assert (api["path_pattern"], api["cache_policy_id"]) == ("/api/*", "4135ea2d-6df8-44a3-9df3-4b5a84be39ad")
    assert api["origin_request_policy_id"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"
    function = planned["aws_cloudfront_function.panel_routes"]
    assert function["publish"] is True and "request.uri = '/index.html'" in function["code"]
    headers = planned["aws_cloudfront_response_headers_policy.panel"]["security_headers_config"][0]
    assert headers["frame_options"][0]["frame_option"] == "DENY"
    assert headers["strict_transport_security"][0]["access_control_max_age_sec"] == 31536000


# -- what the code expects exists ------------------------------------------------------------------


def test_every_table_has_the_models_keys_indexes_and_protections(applied: Applied) -> None:
    from chalicelib.store.models import ALL_MODELS

    dynamodb = applied.client("dynamodb")
    names = set(dynamodb.list_tables()["TableNames"])
    assert names == {_dev_table(model) for model in ALL_MODELS}
    for model in ALL_MODELS:
        name = _dev_table(model)
        table = dynamodb.describe_table(TableName=name)["Table"]
        schema = model._get_schema()
        assert {(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]} == {
            (k["AttributeName"], k["KeyType"]) for k in schema["key_schema"]
        }, name
        assert {(a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]} == {
            (a["AttributeName"], a["AttributeType"]) for a in schema["attribute_definitions"]
        }, name
        expected_indexes = {
            index["index_name"]: (
                {(k["AttributeName"], k["KeyType"]) for k in index["key_schema"]},
                index["projection"]["ProjectionType"],
            )
            for index in schema.get("global_secondary_indexes", [])
        }
        actual_indexes = {
            index["IndexName"]: (
                {(k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]},
                index["Projection"]["ProjectionType"],
            )
            for index in table.get("GlobalSecondaryIndexes", [])
        }
        assert actual_indexes == expected_indexes, name
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        assert (
            table["SSEDescription"]["SSEType"] == "KMS"
            and table["SSEDescription"]["KMSMasterKeyArn"] == (applied.outputs["kms_key_arn"])
        )
        backups = dynamodb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED", name
        ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if "expires_at" in model.get_attributes():  # the models' rows that expire say so
            assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at"), name


def test_the_bucket_starts_each_function_on_its_own_prefix(applied: Applied) -> None:
    from chalice.app import S3EventConfig

    from app import app

    s3, lambda_ = applied.client("s3"), applied.client("lambda")
    configuration = s3.get_bucket_notification_configuration(Bucket=applied.outputs["media_bucket_name"])
    entries = configuration["LambdaFunctionConfigurations"]
    sources = [source for source in app.event_sources if isinstance(source, S3EventConfig)]
    assert len(entries) == len(sources) == len(EVENT_FUNCTIONS)
    for source in sources:
        alias = lambda_.get_alias(FunctionName=applied.outputs["function_names"][source.name], Name="live")
        [entry] = [e for e in entries if e["LambdaFunctionArn"] == alias["AliasArn"]]
        rules = {rule["Name"].lower(): rule["Value"] for rule in entry["Filter"]["Key"]["FilterRules"]}
        assert rules == {k: v for k, v in (("prefix", source.prefix), ("suffix", source.suffix)) if v}
        assert entry["Events"] == source.events
        policy = json.loads(lambda_.get_policy(FunctionName=alias["AliasArn"])["Policy"])
        assert any(s["Principal"] == {"Service": "s3.amazonaws.com"} for s in policy["Statement"]), (
            source.name
        )


def test_every_given_up_event_reaches_the_failures_function_then_the_dead_letter_queue(
    applied: Applied,
) -> None:
    sqs, lambda_ = applied.client("sqs"), applied.client("lambda")
    outputs, names = applied.outputs, applied.outputs["function_names"]

    def queue(name: str) -> dict[str, str]:
        url = sqs.get_queue_url(QueueName=f"intellipost-{STAGE}-{name}")["QueueUrl"]
        attributes: dict[str, str] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])[
            "Attributes"
        ]
        assert attributes["MessageRetentionPeriod"] == str(14 * 24 * 3600)
        assert attributes["KmsMasterKeyId"] == outputs["kms_key_arn"]
        return attributes

    given_up, dead_letters = queue("step-failures"), queue("step-failures-dlq")
    assert given_up["QueueArn"] == outputs["step_failures_queue_arn"]
    # What the failures function cannot turn into a failed product lands in the dead-letter queue.
    assert json.loads(given_up["RedrivePolicy"]) == {
        "deadLetterTargetArn": dead_letters["QueueArn"],
        "maxReceiveCount": 5,
    }
    for function in EVENT_FUNCTIONS:
        invoke = lambda_.get_function_event_invoke_config(FunctionName=names[function], Qualifier="live")
        assert invoke["MaximumRetryAttempts"] == 2
        assert invoke["DestinationConfig"]["OnFailure"]["Destination"] == given_up["QueueArn"]
    mappings = lambda_.list_event_source_mappings(EventSourceArn=given_up["QueueArn"])["EventSourceMappings"]
    assert [m["FunctionArn"].split(":function:")[1].split(":")[0] for m in mappings] == [names["failures"]]


def test_every_alarm_watches_what_it_says_and_tells_the_topic(applied: Applied) -> None:
    alarms = {a["AlarmName"]: a for a in applied.client("cloudwatch").describe_alarms()["MetricAlarms"]}
    topic = applied.outputs["alarm_topic_arn"]
    assert all(alarm["AlarmActions"] == [topic] == alarm["OKActions"] for alarm in alarms.values())
    prefix = f"intellipost-{STAGE}"
    dead_letters = alarms[f"{prefix}-dead-letters"]
    assert dead_letters["Dimensions"] == [{"Name": "QueueName", "Value": f"{prefix}-step-failures-dlq"}]
    for function, name in applied.outputs["function_names"].items():
        for kind, metric in (("errors", "Errors"), ("throttles", "Throttles")):
            alarm = alarms[f"{prefix}-{function}-{kind}"]
            assert (alarm["MetricName"], alarm["Dimensions"]) == (
                metric,
                [{"Name": "FunctionName", "Value": name}],
            )
    api = {d["Name"]: d["Value"] for d in alarms[f"{prefix}-api-5xx-rate"]["Dimensions"]}
    assert api == {"ApiName": "intellipost", "Stage": "api"}  # the edge's stand-in: chalice's names
    cost = alarms[f"{prefix}-ai-daily-cost"]
    assert (cost["Namespace"], cost["MetricName"], cost["Period"]) == ("IntelliPost", "AiCostUsd", 86400)
    assert len(alarms) == 1 + 2 * len(applied.outputs["function_names"]) + 3


def test_terraform_writes_the_settings_it_knows_where_the_functions_look(applied: Applied) -> None:
    ssm = applied.client("ssm")
    expected = {
        "MERCADOLIBRE_CLIENT_ID": CLIENT_ID,
        "MERCADOLIBRE_REDIRECT_URI": applied.outputs["mercadolibre_redirect_uri"],
        "PANEL_URL": applied.outputs["panel_url"],
    }
    from_terraform = {name for name, s in SETTINGS.items() if s.source is Source.TERRAFORM}
    assert from_terraform == set(expected)
    assert expected["MERCADOLIBRE_REDIRECT_URI"] == f"{expected['PANEL_URL']}/api/v1/ml/callback"
    for name, value in expected.items():
        for function in sorted(SETTINGS[name].needed_by):
            parameter = function_environment(STAGE, function)[f"{name}_PARAMETER"]
            found = ssm.get_parameter(Name=parameter)["Parameter"]
            assert (found["Type"], found["Value"]) == ("String", value), name


def test_every_function_runs_the_package_with_its_role_and_only_images_has_the_layer(
    applied: Applied,
) -> None:
    lambda_ = applied.client("lambda")
    [layer] = lambda_.list_layers()["Layers"]
    layer_version = layer["LatestMatchingVersion"]
    uploaded = lambda_.get_layer_version(LayerName=layer["LayerName"], VersionNumber=layer_version["Version"])
    assert uploaded["Content"]["CodeSha256"] == code_sha256(applied.stack.full / "local-remover-layer.zip")
    assert uploaded["CompatibleRuntimes"] == ["python3.11"]
    for function, name in applied.outputs["function_names"].items():
        configuration = lambda_.get_function_configuration(FunctionName=name)
        assert configuration["Role"].endswith(f":role/intellipost-{STAGE}-{function.replace('_', '-')}")
        assert configuration["Runtime"] == "python3.11"
        assert configuration["CodeSha256"] == code_sha256(applied.stack.full / "deployment.zip")
        # Terraform gave each function exactly the environment .chalice/config.json declares for it.
        assert configuration["Environment"]["Variables"] == function_environment(STAGE, function)
        layers = [entry["Arn"] for entry in configuration.get("Layers", [])]
        assert layers == ([layer_version["LayerVersionArn"]] if function == "images" else []), function


def test_each_functions_policy_names_only_its_own_resources(applied: Applied) -> None:
    iam = applied.client("iam")
    outputs = applied.outputs
    names = applied.client("dynamodb").list_tables()["TableNames"]
    assert sorted(outputs["table_names"].values()) == sorted(names)  # the output names every table
    tables = [f"arn:aws:dynamodb:us-east-1:123456789012:table/{name}" for name in names]
    own = {
        "tables": {*tables, *(f"{arn}/index/*" for arn in tables)},
        "bucket": {
            outputs["media_bucket_arn"],
            *(
                f"{outputs['media_bucket_arn']}/{p}*"
                for p in ("uploads/", "processed/", "jobs/", "jobs/images/", "jobs/content/", "jobs/publish/")
            ),
        },
        "key": {outputs["kms_key_arn"]},
        "ssm": {f"arn:aws:ssm:us-east-1:123456789012:parameter/intellipost/{STAGE}/*"},
    }
    everything_own = set().union(*own.values())
    for function, name in outputs["function_names"].items():
        arn = outputs[f"{function}_policy_arn"]
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
        document = json.loads(document) if isinstance(document, str) else document
        attached = iam.list_attached_role_policies(
            RoleName=f"intellipost-{STAGE}-{function.replace('_', '-')}"
        )
        assert [p["PolicyArn"] for p in attached["AttachedPolicies"]] == [arn]
        for statement in document["Statement"]:
            resources = (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            )
            if statement["Sid"] == "Logs":
                assert resources == [f"arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/{name}:*"]
            elif statement["Sid"] in ("GivenUp", "GivenUpEvents"):
                assert resources == [outputs["step_failures_queue_arn"]]
            else:
                assert set(resources) <= everything_own, f"{function} {statement['Sid']}: {resources}"


# -- a seller's walk through the deployed functions --------------------------------------------------


@dataclass
class Walk:
    stage: Stage
    sandbox: str
    state: Any
    double: Any
    token: str = ""

    def sell(self) -> str:
        photo = grocery_photo("Oatly-Oat-Milk", "001")
        declared = [{"file_name": "0.jpg", "content_type": "image/jpeg", "size": len(photo)}]
        status, _, product = self.stage.api(
            "POST", "/products", {"prompt": PROMPT, "images": declared}, self.token
        )
        assert status == 201, product
        form = product["images"][0]["upload"]
        assert form["url"].startswith(self.stage.endpoint)  # the browser's upload goes straight to S3
        sent = requests.post(form["url"], data=form["fields"], files={"file": ("0.jpg", photo)}, timeout=30)
        assert sent.status_code in (200, 204), sent.text
        return str(product["product_id"])

    def product(self, product_id: str) -> dict[str, Any]:
        status, _, body = self.stage.api("GET", f"/products/{product_id}", token=self.token)
        assert status == 200, body
        return body  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def walk(applied: Applied, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walk]:
    from infra.local.mercadolibre.server import create_app
    from infra.local.mercadolibre.state import App, SandboxState
    from tests.chaos.harness import ProviderDouble

    ssm = applied.client("ssm")
    for name, value in SECRETS.items():  # the operator's part, before the first deploy
        parameter = function_environment(STAGE, sorted(SETTINGS[name].needed_by)[0])[f"{name}_PARAMETER"]
        ssm.put_parameter(Name=parameter, Value=value, Type="SecureString", Overwrite=True)
    applied.stack.lift_tls_only_policies([applied.outputs["media_bucket_name"]])
    state = SandboxState()
    # The MercadoLibre app, registered with the redirect URI Terraform computed: it must match exactly.
    state.apps[CLIENT_ID] = App(
        CLIENT_ID, SECRETS["MERCADOLIBRE_CLIENT_SECRET"], applied.outputs["mercadolibre_redirect_uri"]
    )
    double = ProviderDouble()
    with serving(create_app(state)) as sandbox:
        endpoints = dict(
            zip(
                ENDPOINT_SETTINGS,
                (applied.stack.endpoint, sandbox, sandbox, double.url, double.url),
                strict=True,
            )
        )
        stage = Stage(
            applied.stack.endpoint,
            applied.outputs,
            applied.stack.full,
            tmp_path_factory.mktemp("task"),
            endpoints,
        )
        try:
            yield Walk(stage, sandbox, state, double)
        finally:
            stage.stop()
            double.close()


def test_the_stage_passes_make_deploys_pre_check(
    applied: Applied, walk: Walk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TF_VAR_mercadolibre_client_id", CLIENT_ID)
    assert missing_settings(STAGE, applied.client("ssm")) == []


def test_a_seller_lists_a_product_end_to_end(applied: Applied, walk: Walk) -> None:
    stage = walk.stage
    status, _, tokens = stage.api(
        "POST", "/auth/register", {"email": "walk@example.com", "password": "a long password"}
    )
    assert status == 201, tokens
    walk.token = tokens["access_token"]

    status, started, connect = stage.api("GET", "/ml/connect", token=walk.token)
    browser = started["Set-Cookie"].split(";")[0]  # the seller's browser keeps the connection's cookie
    assert status == 200 and connect["authorization_url"].startswith(f"{walk.sandbox}/authorization?")
    signed = requests.post(
        f"{walk.sandbox}/authorization",
        data={**query_of(connect["authorization_url"]), "nickname": "TIENDA_STAGE", "site_id": "MLA"},
        allow_redirects=False,
        timeout=10,
    )
    assert signed.status_code == 302 and signed.headers["Location"].startswith(
        applied.outputs["mercadolibre_redirect_uri"]
    )
    status, headers, _ = stage.api(
        "GET", "/ml/callback", query=query_of(signed.headers["Location"]), cookie=browser
    )
    assert status in (302, 303) and headers["Location"].startswith(applied.outputs["panel_url"])
    assert query_of(headers["Location"]).get("ml") == "connected", headers["Location"]

    product_id = walk.sell()
    delivered = stage.settle()
    assert [function for function, _ in delivered] == ["ingest", "images", "content"]
    ready = walk.product(product_id)
    assert ready["status"] == "ready", ready["attention"]
    assert (ready["main_picture"]["provider"], ready["main_picture"]["fallback"]) == ("photoroom", None)
    status, _, listing = stage.api("GET", f"/products/{product_id}/listing", token=walk.token)
    assert status == 200 and listing["category"]["id"].startswith("MLA") and listing["title"]

    status, _, approved = stage.api(
        "POST", f"/products/{product_id}/publish", {"price": 2500, "quantity": 4}, walk.token
    )
    assert status == 200, approved
    assert [function for function, _ in stage.settle()] == ["publish"]
    published = walk.product(product_id)
    assert published["status"] == "published", published["attention"]
    item = walk.state.items[published["item"]["id"]]
    assert _seller_sku(item) == product_id and item["pictures"] and item["title"] == listing["title"]
    assert walk.double.calls["photoroom"] == 1 and walk.double.calls["gemini"] == 3


def test_photoroom_out_of_credits_falls_back_to_the_layers_remover(walk: Walk) -> None:
    """402 in AWS: the images function cuts the photo with the local remover from its layer."""
    walk.double.mode = "402"
    try:
        product_id = walk.sell()
        walk.stage.settle()
    finally:
        walk.double.mode = "ok"
    ready = walk.product(product_id)
    assert ready["status"] == "ready", ready["attention"]
    picture = ready["main_picture"]
    assert picture["provider"] == "local" and picture["model"] in ("u2netp", "border-colour")
    assert picture["fallback"]["params"] == {"provider": "photoroom", "cause": "PHOTOROOM_CREDITS_EXHAUSTED"}
    # The images process imports only the package and its layer (python -S: no site-packages), so
    # numpy and onnxruntime came from the layer.
    python_path = walk.stage.hosts["images"].ready["python_path"]
    assert not [entry for entry in python_path if "site-packages" in entry]
    layer = walk.stage.layer_root("images")
    assert layer is not None and str(layer / "python") in python_path


REMOVALS = [
    # (function, setting, the paid provider it must not call)
    ("content", "MERCADOLIBRE_CLIENT_ID", "gemini"),
    ("content", "GEMINI_API_KEY", "gemini"),
    ("images", "PHOTOROOM_API_KEY", "photoroom"),
    ("images", "U2NETP_MODEL_PATH", "photoroom"),
]


@pytest.mark.parametrize(("function", "setting", "paid"), REMOVALS, ids=[r[1] for r in REMOVALS])
def test_a_step_without_one_setting_fails_before_any_paid_call_naming_it(
    applied: Applied, walk: Walk, function: str, setting: str, paid: str
) -> None:
    ssm = applied.client("ssm")
    env = walk.stage.environment(function)
    removed: tuple[str, dict[str, Any]] | None = None
    if SETTINGS[setting].source.in_ssm:  # the parameter is gone (never put, or deleted)
        parameter = env[f"{setting}_PARAMETER"]
        found = ssm.get_parameter(Name=parameter, WithDecryption=True)["Parameter"]
        removed = (parameter, found)
        ssm.delete_parameter(Name=parameter)
    else:
        del env[setting]
    try:
        walk.stage.start(function, env)  # a cold start: nothing cached from before
        product_id = walk.sell()
        before = dict(walk.double.calls)
        walk.stage.settle()
        failed = walk.product(product_id)
        assert failed["status"] == "failed"
        assert failed["attention"]["code"] == "SETTING_MISSING"
        assert failed["attention"]["params"]["setting"] == setting
        assert walk.double.calls.get(paid, 0) == before.get(paid, 0), f"{paid} was called"
    finally:
        if removed is not None:
            parameter, found = removed
            ssm.put_parameter(Name=parameter, Value=found["Value"], Type=found["Type"], Overwrite=True)
        walk.stage.start(function)


def test_destroy_leaves_nothing(applied: Applied) -> None:
    started = time.monotonic()
    applied.stack.empty(_buckets(applied))
    applied.stack.destroy()
    applied.destroyed = True
    applied.seconds["destroy"] = time.monotonic() - started
    assert applied.stack.state() == []
    assert applied.client("s3").list_buckets()["Buckets"] == []
    assert applied.client("dynamodb").list_tables()["TableNames"] == []
    assert applied.client("sqs").list_queues().get("QueueUrls", []) == []
    assert applied.client("lambda").list_functions()["Functions"] == []
    assert applied.client("lambda").list_layers()["Layers"] == []
    assert applied.client("iam").list_roles()["Roles"] == []
    assert applied.client("iam").list_policies(Scope="Local")["Policies"] == []
    assert applied.client("cloudwatch").describe_alarms()["MetricAlarms"] == []
    assert applied.client("sns").list_topics()["Topics"] == []
    assert applied.client("logs").describe_log_groups()["logGroups"] == []
    # The operator's SecureStrings stay (they were never Terraform's); Terraform's settings are gone.
    left = applied.client("ssm").describe_parameters()["Parameters"]
    assert {p["Type"] for p in left} <= {"SecureString"}, left
    kms = applied.client("kms")
    assert not [a for a in kms.list_aliases()["Aliases"] if a["AliasName"] == f"alias/intellipost-{STAGE}"]
    # KMS keeps a key for its deletion window (30 days), then deletes it. The stage's key is the only
    # customer key there was; moto makes AWS-managed keys (alias/aws/...) as AWS does, and keeps them.
    aws_managed = {
        a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"] if a["AliasName"].startswith("alias/aws/")
    }
    keys = [kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"] for k in kms.list_keys()["Keys"]]
    assert {(k["Arn"], k["KeyState"]) for k in keys if k["KeyId"] not in aws_managed} == {
        (applied.outputs["kms_key_arn"], "PendingDeletion")
    }


def _seller_sku(item: dict[str, Any]) -> str | None:
    """The SKU MercadoLibre searches by `seller_sku=`: the item's SELLER_SKU attribute (items-y-busquedas)."""
    return next((a["value_name"] for a in item["attributes"] if a["id"] == "SELLER_SKU"), None)
