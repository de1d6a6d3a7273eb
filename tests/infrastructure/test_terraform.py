"""infrastructure/ checked statically against the code it deploys (no terraform binary, no AWS).

What each Lambda needs is derived from its code (tests/infrastructure/code_scan.py): the environment
variables its import closure reads, the AWS calls its reachable code makes and the resources those calls
target (through the environment variables their arguments read). The Terraform must provide exactly
that: every variable and every call is covered, and no grant goes beyond what some call (or an
explained platform need: logs, X-Ray, KMS, event sources, dead-letter queues) requires.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import pytest
import yaml

from tests.infrastructure.code_scan import AwsCall, Scan, scan
from tests.infrastructure.terraform import ROOT, TF_DIR, Config, Statement, as_list, load, statements

LAMBDAS_DIR = ROOT / "backend" / "lambdas"
LAYER_ROOTS = sorted((ROOT / "backend" / "layers").glob("*/python"))
VOICE_COMMON = ROOT / "backend" / "layers" / "voice_common" / "python" / "voice_common"
LAMBDA_NAMES = sorted(p.name for p in LAMBDAS_DIR.iterdir() if (p / "lambda_function.py").is_file())
MANIFEST = json.loads((ROOT / "module.json").read_text())

# Read by the code without a default, yet rightly left unset by Terraform. Keep this short.
OPTIONAL_ENV = {
    "DATABASE_URL": "local/dev alternative to DATABASE_SECRET_ARN, which Terraform sets",
    "BOT_TOKEN_SECRET": "local/dev alternative to BOT_TOKEN_SECRET_ARN, which Terraform sets",
    "SUPABASE_JWT_SECRET": "local/dev alternative to SUPABASE_JWT_SECRET_ARN, which Terraform sets",
    "MODULE_CONFIG_PATH": "defaults to the module.config.yaml the build puts in the voice_common layer",
    "OPENAI_API_KEY": "plain-key alternative to OPENAI_API_KEY_SECRET_ARN: never set, keys travel as ARNs",
    "AI_FALLBACK_PROVIDERS": "optional chain of fallback LLM endpoints; none by default",
    "AI_ORG_SECRET_PREFIX": "module-ai's per-organization AI settings seam; off unless the platform has it",
}
# Environment reads whose name is computed at run time (module, expression): why that is fine.
DYNAMIC_ENV = {
    ("ai_common.config", "key_env"): "an AI_FALLBACK_PROVIDERS entry may name a variable holding its key",
    ("voice_common.integrations.providers", "self.url_env"): "*_API_URL endpoint overrides (local stand-ins)",
}
# Set by Terraform, read by a library rather than by the module's code.
LIBRARY_ENV = {"POWERTOOLS_LOG_LEVEL": "aws-lambda-powertools Logger level"}

# Which Terraform resources a call of each service can target (variables: only secret ARNs).
TARGET_TYPES = {
    "dynamodb": ("aws_dynamodb_table.",),
    "sqs": ("aws_sqs_queue.",),
    "s3": ("aws_s3_bucket.",),
    "secretsmanager": ("aws_secretsmanager_secret.",),
    "ecs": ("aws_ecs_cluster.", "aws_ecs_task_definition."),
    "execute-api": ("aws_apigatewayv2_api.",),
    "kms": ("aws_kms_key.",),
}
# Actions AWS does not scope to resources: "*" is the only possible resource.
UNSCOPED_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "ecr:GetAuthorizationToken"}
WRITE_ACTIONS = {
    "sqs:SendMessage",
    "s3:PutObject",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
}


@functools.cache
def code(name: str) -> Scan:
    return scan(LAMBDAS_DIR / name / "lambda_function.py", LAYER_ROOTS)


@functools.cache
def bot_code() -> Scan:
    return scan(
        ROOT / "backend" / "bot" / "voice_bot" / "__main__.py",
        [ROOT / "backend" / "bot"],
        "voice_bot.__main__",
    )


@pytest.fixture(scope="module")
def tf() -> Config:
    return load()


def tf_lambdas() -> dict[str, Any]:
    return load().locals["lambdas"]


def tf_env(name: str) -> dict[str, str]:
    config = load()
    env: dict[str, str] = {}
    for group in tf_lambdas()[name]["env_groups"]:
        env.update(config.locals["lambda_env_groups"][group])
    return env


def tf_statements(name: str) -> list[Statement]:
    config = load()
    doc = config.policy_document("lambda")
    assert (
        "lambda_base" in doc["source_policy_documents"]
        and "local.policy_parts" in doc["source_policy_documents"]
    )
    found = statements(config, "lambda_base")
    for part in tf_lambdas()[name]["policies"]:
        (document,) = re.findall(
            r"data\.aws_iam_policy_document\.([a-z0-9_]+)", config.locals["policy_parts"][part]
        )
        found += statements(config, document)
    return found


def typed(prefix: str, refs: set[str]) -> set[str]:
    """The refs a call of IAM service ``prefix`` can target."""
    types = TARGET_TYPES.get(prefix, ())
    return {
        r
        for r in refs
        if r.startswith(types) or (prefix == "secretsmanager" and re.fullmatch(r"var\.\w+_secret_arn", r))
    }


def call_targets(name: str, call: AwsCall) -> set[str]:
    env = tf_env(name)
    refs = set().union(*(load().refs(env[e]) for e in call.env if e in env)) if call.env else set()
    return typed(call.iam_actions[0].split(":")[0], refs)


# --- parsing, versions, variables, outputs -----------------------------------------------------------------


def test_every_tf_file_parses_and_concerns_are_split(tf: Config) -> None:
    expected = {"versions.tf", "variables.tf", "main.tf", "outputs.tf", "lambda.tf", "api_rest.tf",
                "api_websocket.tf", "dynamodb.tf", "s3.tf", "sqs.tf", "ecs.tf", "events.tf", "iam.tf",
                "monitoring.tf", "kms.tf", "secrets.tf"}  # fmt: skip
    assert expected <= set(tf.files)
    assert tf.resources and tf.variables and tf.outputs


def test_terraform_and_provider_versions_are_pinned(tf: Config) -> None:
    (block,) = tf.terraform
    assert re.fullmatch(r">=\s*1\.(5|[6-9]|\d\d)(\.\d+)?", block["required_version"])
    providers = (
        block["required_providers"][0]
        if isinstance(block["required_providers"], list)
        else block["required_providers"]
    )
    assert re.fullmatch(r"~>\s*5\.\d+", providers["aws"]["version"]), "AWS provider pinned to major 5"
    assert providers["random"]["version"].startswith("~>")


def test_every_variable_is_documented_and_typed(tf: Config) -> None:
    assert tf.variables["module_voice_enabled"]["default"] is True
    for name, body in tf.variables.items():
        assert len(str(body.get("description", ""))) > 15, f"variable {name} needs a description"
        assert "type" in body, f"variable {name} needs a type"
    validated = {name for name, body in tf.variables.items() if "validation" in body}
    assert len(validated) >= len(tf.variables) // 2, "most inputs should be validated"


def test_every_resource_follows_the_enable_switch(tf: Config) -> None:
    for (rtype, name), body in tf.resources.items():
        # Through whatever locals the count or for_each uses (local.enabled, local.rest_api_enabled...).
        switch = tf.expand(str(body.get("count", "")) + str(body.get("for_each", "")))
        assert "var.module_voice_enabled" in switch, f"{rtype}.{name} ignores module_voice_enabled"


def test_outputs_give_the_platform_what_it_needs(tf: Config) -> None:
    assert {"rest_routes", "websocket_url", "queue_urls", "transcript_bucket", "connections_table",
            "idempotency_table", "lambda_functions"} <= set(tf.outputs)  # fmt: skip
    routes = str(tf.outputs["rest_routes"]["value"])
    for key in ("method", "path", "lambda_arn", "invoke_arn", "auth"):
        assert f"{key} " in routes or f"{key}=" in routes or f"'{key}'" in routes


def test_readme_documents_inputs_and_outputs(tf: Config) -> None:
    readme = (TF_DIR / "README.md").read_text()
    missing = [name for name in [*tf.variables, *tf.outputs] if f"`{name}`" not in readme]
    assert not missing, f"infrastructure/README.md does not mention {missing}"


# --- Lambdas ------------------------------------------------------------------------------------------------


def test_every_lambda_folder_has_a_function_and_every_function_a_folder() -> None:
    assert set(tf_lambdas()) == set(LAMBDA_NAMES)
    assert {spec["name"] for spec in MANIFEST["lambdas"]} == set(LAMBDA_NAMES)


def test_lambda_functions_are_configured_as_the_module_requires(tf: Config) -> None:
    fn = tf.resource("aws_lambda_function", "voice")
    # Zip functions (all but an image-deployed voice-preview, see test_variables.py): python3.11, the
    # handler, the hashed zip and the layers; test_terraform_cli.py plans both modes.
    image = "contains(keys(local.lambda_images), each.key)"
    assert fn["runtime"] == f'${{{image} ? null : "python3.11"}}'
    assert fn["handler"] == f'${{{image} ? null : "lambda_function.lambda_handler"}}'
    assert "filebase64sha256" in fn["source_code_hash"] and "each.key}.zip" in fn["source_code_hash"]
    assert as_list(fn["tracing_config"])[0]["mode"] == "Active"
    assert "reserved_concurrent_executions" in fn and "kms_key_arn" in fn
    assert "local.layer_names" in fn["layers"]
    variables = as_list(fn["environment"])[0]["variables"]
    assert "each.value.env_groups" in variables and "local.lambda_env_groups[group]" in variables
    dynamic = {k for block in as_list(fn.get("dynamic")) for k in block}
    assert {"dead_letter_config", "vpc_config"} <= dynamic
    logs = tf.resource("aws_cloudwatch_log_group", "lambda")
    assert "retention_in_days" in logs and "kms_key_id" in logs
    # One layer per backend/layers folder, plus the runtime dependencies.
    layers = {p.parent.name for p in LAYER_ROOTS}
    assert set(tf.locals["layer_names"]) == layers | {"dependencies"}


def test_asynchronous_lambdas_have_dead_letters_and_event_sources(tf: Config) -> None:
    async_names = {name for name, spec in tf_lambdas().items() if spec["async"]}
    triggered = {spec["name"] for spec in MANIFEST["lambdas"] if spec["type"] == "event"}
    assert async_names == triggered
    mappings = tf.resources_of("aws_lambda_event_source_mapping")
    mapped = {re.search(r'voice\["([a-z-]+)"\]', m["function_name"]).group(1) for m in mappings.values()}  # type: ignore[union-attr]
    assert mapped == triggered, "every event Lambda consumes its SQS queue"
    for mapping in mappings.values():
        assert mapping["function_response_types"] == ["ReportBatchItemFailures"]


# --- routes -------------------------------------------------------------------------------------------------


def test_rest_routes_equal_module_json(tf: Config) -> None:
    from voice_local.routes import rest_routes

    declared = {(r.lambda_name, r.method, r.template, r.auth) for r in rest_routes()}
    terraform = {(r["lambda"], r["method"], r["path"], r["auth"]) for r in tf.locals["rest_routes"]}
    assert terraform == declared


def test_rest_api_uses_the_authorizer_only_for_user_routes(tf: Config) -> None:
    openapi = str(tf.locals["openapi"])
    assert (
        'r.auth == "user" ? [{cora-authorizer = []}] : []' in openapi.replace("\n", " ")
        or "cora-authorizer" in openapi
    )
    bot_routes = [r for r in tf.locals["rest_routes"] if r["lambda"] == "voice-bot"]
    assert bot_routes and all(r["auth"] == "bot-token" for r in bot_routes)
    permission = tf.resource("aws_lambda_permission", "rest")
    assert "each.value.method" in permission["source_arn"], "each route may invoke only its own Lambda"


def test_websocket_routes_equal_module_json(tf: Config) -> None:
    (spec,) = [s for s in MANIFEST["lambdas"] if s["type"] == "websocket"]
    assert tf.locals["websocket_routes"] == spec["routes"]
    api = tf.resource("aws_apigatewayv2_api", "websocket")
    assert api["protocol_type"] == "WEBSOCKET" and api["route_selection_expression"] == "$request.body.action"
    assert (
        'voice["voice-websocket"]'
        in tf.resource("aws_apigatewayv2_integration", "websocket")["integration_uri"]
    )
    assert "aws_apigatewayv2_stage" in {t for t, _ in tf.resources}


# --- environment --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", LAMBDA_NAMES)
def test_environment_sets_every_variable_the_code_reads(name: str) -> None:
    env = tf_env(name)
    missing = sorted(code(name).required_env - set(env) - set(OPTIONAL_ENV))
    assert not missing, f"{name} reads {missing} without a default; set them in lambda_env_groups"
    unexplained = code(name).dynamic_env - set(DYNAMIC_ENV)
    assert not unexplained, f"{name}: environment names computed at run time, explain them: {unexplained}"


@pytest.mark.parametrize("name", LAMBDA_NAMES)
def test_environment_sets_nothing_the_code_does_not_read(name: str) -> None:
    unread = sorted(v for v in tf_env(name) if not code(name).reads(v) and v not in LIBRARY_ENV)
    assert not unread, f"{name} is given {unread}, which its code never reads (typo or stale?)"


def test_environment_holds_arns_not_keys(tf: Config) -> None:
    for values in tf.locals["lambda_env_groups"].values():
        for var in values:
            # Secrets travel as ARNs (or KMS key ids); a value secret in an environment is a defect.
            if re.search(r"KEY|SECRET|PASSWORD|TOKEN", var):
                assert var.endswith(("_ARN", "_KEY_ID")), var


def test_module_settings_defaults_match_module_config(tf: Config) -> None:
    settings = yaml.safe_load((ROOT / "module.config.yaml").read_text())["settings"]
    hours = settings["business_hours"]
    assert tf.variables["business_hours_start"]["default"] == hours["start"]
    assert tf.variables["business_hours_end"]["default"] == hours["end"]
    assert tf.variables["business_hours_days"]["default"] == hours["days"]
    assert tf.variables["business_hours_timezone"]["default"] == hours["timezone"]
    assert tf.variables["standby_pool_size"]["default"] == settings["standby_pool_size"]
    assert tf.variables["transcript_retention_days"]["default"] == settings["transcript_retention_days"]
    # The Lambdas get the same values the ECS schedule uses.
    group = tf.locals["lambda_env_groups"]["settings"]
    for var, tf_var in [
        ("VOICE_BUSINESS_HOURS_START", "business_hours_start"),
        ("VOICE_BUSINESS_HOURS_TIMEZONE", "business_hours_timezone"),
        ("VOICE_STANDBY_POOL_SIZE", "standby_pool_size"),
    ]:
        assert f"var.{tf_var}" in group[var]


# --- IAM ----------------------------------------------------------------------------------------------------


def implied_grants(tf: Config, name: str) -> dict[str, set[str]]:
    """Actions the platform (not the code) needs, with the refs they may target."""
    grants: dict[str, set[str]] = {
        "logs:CreateLogStream": {"aws_cloudwatch_log_group.lambda"},
        "logs:PutLogEvents": {"aws_cloudwatch_log_group.lambda"},
        "xray:PutTraceSegments": set(),  # active tracing (unscoped)
        "xray:PutTelemetryRecords": set(),
        "kms:Decrypt": {
            "aws_kms_key.voice",
            "var.external_secrets_kms_key_arns",
        },  # environment, encrypted data
    }
    spec = tf_lambdas()[name]
    live = {a for c in code(name).live_calls for a in c.iam_actions}
    if spec["async"]:
        grants["sqs:SendMessage"] = {"aws_sqs_queue.lambda_dlq"}  # dead_letter_config
    if live & WRITE_ACTIONS or spec["async"]:
        grants["kms:GenerateDataKey"] = {"aws_kms_key.voice"}
    for mapping in tf.resources_of("aws_lambda_event_source_mapping").values():
        if f'voice["{name}"]' in mapping["function_name"]:
            for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"):
                grants.setdefault(action, set()).update(tf.refs(mapping["event_source_arn"]))
    if "ecs:RunTask" in live:
        task_definition = tf.resource("aws_ecs_task_definition", "bot")
        roles = tf.refs(task_definition["task_role_arn"]) | tf.refs(task_definition["execution_role_arn"])
        grants["iam:PassRole"] = roles
        grants["ecs:TagResource"] = {"aws_ecs_cluster.bot"}  # run_task's tags
    return grants


@pytest.mark.parametrize("name", LAMBDA_NAMES)
def test_policy_allows_every_call_on_its_target(tf: Config, name: str) -> None:
    granted = tf_statements(name)
    for call in code(name).live_calls:
        targets = call_targets(name, call)
        for action in call.iam_actions:
            allowing = [s for s in granted if s.effect == "Allow" and action in s.actions]
            assert allowing, f"{name}: {action} ({call.module}:{call.line}) is not allowed"
            if targets:
                covered = any(targets & tf.refs(r) for s in allowing for r in s.resources)
                assert covered, (
                    f"{name}: {action} ({call.module}:{call.line}) not allowed on {sorted(targets)}"
                )


@pytest.mark.parametrize("name", LAMBDA_NAMES)
def test_policy_grants_nothing_beyond_the_calls(tf: Config, name: str) -> None:
    scan_ = code(name)
    implied = implied_grants(tf, name)
    env_refs = set().union(*(tf.refs(v) for v in tf_env(name).values()))
    targets: dict[str, set[str]] = {}
    unresolved: set[str] = set()
    credential_reads = False
    for call in scan_.live_calls:
        for action in call.iam_actions:
            found = call_targets(name, call)
            targets.setdefault(action, set()).update(found)
            if not found:
                unresolved.add(action)
            credential_reads |= call.module == "voice_common.credentials"

    def justified(action: str, resource: str) -> bool:
        refs = tf.refs(resource)
        allowed = targets.get(action, set()) | implied.get(action, set())
        if (
            action in unresolved
        ):  # target chosen at run time: any resource of that kind this Lambda is configured with
            allowed |= typed(action.split(":")[0], env_refs)
            # voice_common.credentials.secret_name(): cora/<ENVIRONMENT>/voice/credentials/* (test below)
            if credential_reads and "/voice/credentials/" in tf.expand(resource):
                return True
        return bool(refs & allowed)

    for statement in tf_statements(name):
        assert statement.effect == "Allow", f"{name}: unexpected Deny in {statement.document}"
        for action in statement.actions:
            assert "*" not in action, f"{name}: wildcard action {action} in {statement.document}"
            assert action in targets or action in implied, (
                f"{name}: {action} ({statement.document}) is never called"
            )
        for resource in statement.resources:
            if resource == "*":
                assert set(statement.actions) <= UNSCOPED_ACTIONS, f"{name}: {statement.actions} on '*'"
                continue
            for action in statement.actions:
                assert justified(action, resource), (
                    f"{name}: {action} on {resource} ({statement.document}) not needed"
                )


def test_pass_role_only_hands_the_bot_roles_to_ecs(tf: Config) -> None:
    passing = [
        s
        for name in LAMBDA_NAMES
        for s in tf_statements(name)
        if any(a.startswith("iam:") for a in s.actions)
    ]
    assert passing
    for statement in passing:
        assert statement.actions == ("iam:PassRole",)
        refs = set().union(*(tf.refs(r) for r in statement.resources))
        assert refs == {"aws_iam_role.bot_task", "aws_iam_role.bot_execution"}
        assert ("StringEquals", "iam:PassedToService", ("ecs-tasks.amazonaws.com",)) in statement.conditions


def test_bot_task_roles_allow_exactly_the_bots_calls(tf: Config) -> None:
    calls = bot_code().live_calls
    pool_actions = {a for c in calls if c.module == "voice_bot.standby" for a in c.iam_actions}
    task_actions = {a for c in calls if c.module != "voice_bot.standby" for a in c.iam_actions}
    assert pool_actions and task_actions
    task = statements(tf, "bot_secrets")
    standby = statements(tf, "bot_standby")
    kms = {"kms:Decrypt"}  # sealed dispatch tokens / encrypted pool queue / externally encrypted secrets
    # voice_bot.protection calls the ECS agent endpoint over HTTP (not boto3): standby bots only.
    agent = {"ecs:UpdateTaskProtection"}
    assert "task-protection/v1/state" in (ROOT / "backend/bot/voice_bot/protection.py").read_text()
    assert {a for s in task for a in s.actions} - kms == task_actions - kms
    assert {a for s in standby for a in s.actions} - kms == (task_actions | pool_actions | agent) - kms
    # voice_bot.config.unseal: only the module key, only under the bot-dispatch encryption context.
    (unseal,) = [s for s in task if s.sid == "UnsealDispatchTokens"]
    assert unseal.actions == ("kms:Decrypt",) and unseal.resources == ("${aws_kms_key.voice[0].arn}",)
    assert ("StringEquals", "kms:EncryptionContext:purpose", ("bot-dispatch",)) in unseal.conditions
    for statement in standby:
        if set(statement.actions) & pool_actions:
            assert {r for res in statement.resources for r in tf.refs(res)} == {"aws_sqs_queue.standby_pool"}
    assert "aws_iam_role.bot_task" in tf.refs(tf.resource("aws_ecs_task_definition", "bot")["task_role_arn"])
    assert "aws_iam_role.bot_standby_task" in tf.refs(
        tf.resource("aws_ecs_task_definition", "bot_standby")["task_role_arn"]
    )


def test_credential_secret_names_match_the_code(tf: Config) -> None:
    source = (VOICE_COMMON / "credentials.py").read_text()
    match = re.search(r'_OWNED_SECRET = re\.compile\(r"([^"]+)"\)', source)
    assert match, "voice_common.credentials._OWNED_SECRET moved: update this test"
    owned = match.group(1)
    assert tf.locals["credential_secrets_arn"].endswith(":secret:${local.credential_secrets_prefix}*")
    prefix = tf.locals["credential_secrets_prefix"].replace("${var.environment}", "prod")
    arn = f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{prefix}0b0e/daily-AbCdEf"
    assert re.search(owned, arn), f"{prefix} does not match the code's {owned}"


# --- data stores, queues, bot, events -----------------------------------------------------------------------


def test_dynamodb_tables_match_the_code(tf: Config) -> None:
    realtime = (VOICE_COMMON / "realtime.py").read_text()
    index = re.search(r'SESSION_INDEX = "([^"]+)"', realtime).group(1)  # type: ignore[union-attr]
    connections = tf.resource("aws_dynamodb_table", "connections")
    assert connections["hash_key"] == "connection_id"
    (gsi,) = as_list(connections["global_secondary_index"])
    assert gsi["name"] == index and gsi["hash_key"] == "session_id"
    assert as_list(connections["ttl"])[0]["attribute_name"] == "expires_at"
    idempotency = tf.resource("aws_dynamodb_table", "idempotency")
    assert (
        idempotency["hash_key"] == "id" and as_list(idempotency["ttl"])[0]["attribute_name"] == "expiration"
    )
    for table in (connections, idempotency):
        assert as_list(table["point_in_time_recovery"])[0]["enabled"] is True
        sse = as_list(table["server_side_encryption"])[0]
        assert sse["enabled"] is True and "aws_kms_key.voice" in sse["kms_key_arn"]
    assert f"/index/{index}" in str(tf.policy_document("connections"))


def test_transcript_bucket_is_private_encrypted_and_expires(tf: Config) -> None:
    block = tf.resource("aws_s3_bucket_public_access_block", "transcripts")
    assert all(
        block[k] is True
        for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    )
    assert (
        as_list(tf.resource("aws_s3_bucket_versioning", "transcripts")["versioning_configuration"])[0][
            "status"
        ]
        == "Enabled"
    )
    sse = as_list(
        as_list(tf.resource("aws_s3_bucket_server_side_encryption_configuration", "transcripts")["rule"])[0][
            "apply_server_side_encryption_by_default"
        ]
    )[0]
    assert sse["sse_algorithm"] == "aws:kms"
    lifecycle = str(tf.resource("aws_s3_bucket_lifecycle_configuration", "transcripts"))
    for needle in (
        "GLACIER",
        "var.transcript_glacier_transition_days",
        "var.transcript_expiration_days",
        "abort_incomplete_multipart_upload",
    ):
        assert needle in lifecycle
    policy = str(tf.policy_document("transcripts_bucket"))
    assert "aws:SecureTransport" in policy
    assert ("aws_s3_bucket_logging", "transcripts") in tf.resources
    # The code's key prefixes are the ones the policies and lifecycle rules use.
    preview = (VOICE_COMMON / "preview.py").read_text()
    assert f'CACHE_PREFIX = "{tf.locals["previews_prefix"]}"' in preview
    assembly = (VOICE_COMMON / "assembly.py").read_text()
    assert tf.locals["transcripts_prefix"] in assembly


def test_every_queue_is_encrypted_and_work_queues_have_dead_letters(tf: Config) -> None:
    queues = tf.resources_of("aws_sqs_queue")
    for name, queue in queues.items():
        assert "aws_kms_key.voice" in queue["kms_master_key_id"], name
    for name in ("standby_pool", "dispatch_check", "worker"):
        assert f"aws_sqs_queue.{name}_dlq" in queues[name]["redrive_policy"]


def test_bot_task_definitions_use_secrets_and_awslogs(tf: Config) -> None:
    container = tf.locals["bot_container"]
    assert "valueFrom" in str(container["secrets"])
    assert container["logConfiguration"]["logDriver"] == "awslogs"
    names = re.findall(r"name\s*=\s*\"?([A-Z_]+)", str(tf.locals["bot_environment"]))
    assert not [n for n in names if re.search(r"KEY|SECRET|PASSWORD", n)], "keys go through `secrets`"
    # What the bot reads without a default: STANDBY_QUEUE_URL (standby definition) and BOT_PAYLOAD,
    # which voice_common.dispatch passes as a run_task container override.
    dispatch = (VOICE_COMMON / "dispatch.py").read_text()
    standby = tf.resource("aws_ecs_task_definition", "bot_standby")["container_definitions"]
    ecs_provided = {"ECS_AGENT_URI"}  # set by ECS itself in every task (voice_bot.protection)
    for var in bot_code().required_env - ecs_provided:
        assert var in standby or f'"name": "{var}"' in dispatch, f"the bot needs {var}"
    assert 'command = ["standby"]' in standby.replace("'", '"') or '["standby"]' in standby
    cluster = tf.resource("aws_ecs_cluster", "bot")
    assert as_list(cluster["setting"])[0] == {"name": "containerInsights", "value": "enabled"}


def test_standby_pool_follows_the_business_hours(tf: Config) -> None:
    service = tf.resource("aws_ecs_service", "standby")
    assert "bot_standby" in service["task_definition"]
    opening = tf.resource("aws_appautoscaling_scheduled_action", "pool_open")
    closing = tf.resource("aws_appautoscaling_scheduled_action", "pool_close")
    for action in (opening, closing):
        assert action["timezone"] == "${var.business_hours_timezone}"
        assert "local.pool_days" in action["schedule"]
    assert "pool_start" in opening["schedule"] and "pool_end" in closing["schedule"]
    assert "var.standby_pool_size" in str(opening["scalable_target_action"])


def test_events_reach_the_right_lambdas(tf: Config) -> None:
    pattern = tf.resource("aws_cloudwatch_event_rule", "ecs_task_stopped")["event_pattern"]
    for needle in ("ECS Task State Change", "STOPPED", "family:${local.bot_family}", "aws_ecs_cluster.bot"):
        assert needle in pattern
    assert tf.variables["watchdog_schedule"]["default"] == "rate(1 minute)"
    assert tf.variables["retention_schedule"]["default"].startswith("cron(")
    assert tf.locals["event_targets"] == {
        "ecs_task_stopped": "voice-events",
        "watchdog": "voice-events",
        "retention": "voice-worker",
    }
    target = tf.resource("aws_cloudwatch_event_target", "voice")
    assert "retry_policy" in target and "dead_letter_config" in target


def test_alarms_cover_the_failure_signals(tf: Config) -> None:
    alarms = tf.resources_of("aws_cloudwatch_metric_alarm")
    metrics = {str(a["metric_name"]) for a in alarms.values()}
    assert {
        "5XXError",
        "Errors",
        "Throttles",
        "ApproximateNumberOfMessagesVisible",
        "ApproximateAgeOfOldestMessage",
    } <= metrics
    assert all("local.alarm_actions" in str(a["alarm_actions"]) for a in alarms.values())
    assert ("aws_cloudwatch_dashboard", "voice") in tf.resources


# --- checkov ------------------------------------------------------------------------------------------------


def test_every_checkov_skip_gives_a_reason(tf: Config) -> None:
    for file, text in tf.files.items():
        for line in text.splitlines():
            if "checkov:skip" in line:
                assert re.search(r"#checkov:skip=CKV2?_AWS_\d+:.{20,}", line), (
                    f"{file}: skip without a reason: {line.strip()}"
                )
