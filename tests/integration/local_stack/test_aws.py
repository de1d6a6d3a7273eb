"""voice_local.aws: the resources Terraform creates exist on moto with the same names and settings."""

from __future__ import annotations

import json
import os

import boto3
import pytest

from voice_local.aws import ResourceNames, create_resources


@pytest.fixture(scope="module")
def clients(stack):
    def make(service: str):
        return boto3.client(service, endpoint_url=stack.aws_endpoint)

    return make


def test_names_follow_terraform_scheme(stack):
    env = stack.resources
    assert env["CONNECTIONS_TABLE"] == "cora-local-voice-connections"
    assert env["IDEMPOTENCY_TABLE"] == "cora-local-voice-idempotency"
    assert env["TRANSCRIPT_BUCKET"] == "cora-local-voice-transcripts"
    assert env["ECS_TASK_DEFINITION"] == "cora-local-voice-bot"
    assert env["ECS_CONTAINER_NAME"] == "pipecat-bot"
    assert ResourceNames(environment="dev").worker_queue == "cora-dev-voice-worker"


def test_environment_exported_for_lambdas(stack):
    contract = [
        "CONNECTIONS_TABLE",
        "IDEMPOTENCY_TABLE",
        "TRANSCRIPT_BUCKET",
        "STANDBY_QUEUE_URL",
        "DISPATCH_CHECK_QUEUE_URL",
        "WORKER_QUEUE_URL",
        "ECS_CLUSTER",
        "ECS_TASK_DEFINITION",
        "ECS_CONTAINER_NAME",
        "ECS_SUBNETS",
        "ECS_SECURITY_GROUPS",
        "BOT_TOKEN_SECRET_ARN",
        "BOT_DISPATCH_KMS_KEY_ID",
        "DAILY_API_KEY_SECRET_ARN",
        "DAILY_API_URL",
        "WEBSOCKET_API_ENDPOINT",
        "WEBSOCKET_URL",
        "API_BASE_URL",
        "AWS_ENDPOINT_URL",
        "SUPABASE_JWT_SECRET",
    ]
    missing = [name for name in contract if not os.environ.get(name)]
    assert not missing
    assert os.environ["AWS_ENDPOINT_URL"] == stack.aws_endpoint
    assert os.environ["WEBSOCKET_API_ENDPOINT"] == stack.base_url
    assert os.environ["API_BASE_URL"] == stack.rest_url


def test_connections_table(clients, stack):
    ddb = clients("dynamodb")
    table = ddb.describe_table(TableName=stack.resources["CONNECTIONS_TABLE"])["Table"]
    assert table["KeySchema"] == [{"AttributeName": "connection_id", "KeyType": "HASH"}]
    (gsi,) = table["GlobalSecondaryIndexes"]
    assert gsi["IndexName"] == "session_id-index"
    assert gsi["KeySchema"] == [{"AttributeName": "session_id", "KeyType": "HASH"}]
    ttl = ddb.describe_time_to_live(TableName=stack.resources["CONNECTIONS_TABLE"])
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires_at"


def test_idempotency_table_matches_powertools_defaults(clients, stack):
    ddb = clients("dynamodb")
    table = ddb.describe_table(TableName=stack.resources["IDEMPOTENCY_TABLE"])["Table"]
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    ttl = ddb.describe_time_to_live(TableName=stack.resources["IDEMPOTENCY_TABLE"])
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expiration"


def test_transcript_bucket_is_encrypted(clients, stack):
    s3 = clients("s3")
    rules = s3.get_bucket_encryption(Bucket=stack.resources["TRANSCRIPT_BUCKET"])[
        "ServerSideEncryptionConfiguration"
    ]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


@pytest.mark.parametrize("queue", ["STANDBY_QUEUE_URL", "DISPATCH_CHECK_QUEUE_URL", "WORKER_QUEUE_URL"])
def test_queues_have_dead_letter_queues(clients, stack, queue):
    sqs = clients("sqs")
    attrs = sqs.get_queue_attributes(QueueUrl=stack.resources[queue], AttributeNames=["All"])["Attributes"]
    redrive = json.loads(attrs["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"].endswith(stack.resources[queue].rsplit("/", 1)[1] + "-dlq")
    assert int(redrive["maxReceiveCount"]) >= 1


def test_secrets_and_ecs(clients, stack):
    sm = clients("secretsmanager")
    bot_secret = sm.get_secret_value(SecretId=stack.resources["BOT_TOKEN_SECRET_ARN"])["SecretString"]
    assert len(bot_secret) >= 32
    assert sm.get_secret_value(SecretId=stack.resources["DAILY_API_KEY_SECRET_ARN"])["SecretString"]
    ecs = clients("ecs")
    task = ecs.describe_task_definition(taskDefinition=stack.resources["ECS_TASK_DEFINITION"])[
        "taskDefinition"
    ]
    assert [c["name"] for c in task["containerDefinitions"]] == ["pipecat-bot"]
    clusters = ecs.describe_clusters(clusters=[stack.resources["ECS_CLUSTER"]])["clusters"]
    assert clusters and clusters[0]["status"] == "ACTIVE"
    assert stack.resources["ECS_SUBNETS"].startswith("subnet-")
    assert stack.resources["ECS_SECURITY_GROUPS"].startswith("sg-")


def test_create_resources_is_idempotent(stack):
    again = create_resources(stack.aws_endpoint)
    # Queue URLs, secret ARNs (and so the bot token secret) stay the same.
    for key in ("WORKER_QUEUE_URL", "BOT_TOKEN_SECRET_ARN", "DAILY_API_KEY_SECRET_ARN"):
        assert again[key] == stack.resources[key]


def test_health_checks_see_the_aws_resources(stack):
    """The health router's AWS probes pass against the stack (the database probe is the slow test's)."""
    from voice_common.api import health

    health.reset_clients()
    assert health._run(health.check_dynamodb) == "ok"
    assert health._run(health.check_s3) == "ok"
    assert health._run(health.check_sqs) == "ok"
