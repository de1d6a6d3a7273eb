"""AWS for the local stack: moto's server on 127.0.0.1 with the resources Terraform creates.

Names follow Terraform's ``${project}-${environment}-voice-<what>`` (project ``cora``, environment
``local``), and everything the Lambdas need is exported under the environment variable names of
docs/contracts.md, so handler code runs unchanged against moto.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from voice_local.lambdas import DEFAULT_REGION

HOST = "127.0.0.1"
DEFAULT_AWS_PORT = 5001
DLQ_MAX_RECEIVE_COUNT = 5
BOT_CONTAINER_NAME = "pipecat-bot"


@dataclass(frozen=True)
class ResourceNames:
    """The module's AWS resource names for one project/environment (the same scheme as Terraform)."""

    project: str = "cora"
    environment: str = "local"

    def name(self, what: str) -> str:
        return f"{self.project}-{self.environment}-voice-{what}"

    @property
    def connections_table(self) -> str:
        return self.name("connections")

    @property
    def idempotency_table(self) -> str:
        return self.name("idempotency")

    @property
    def transcript_bucket(self) -> str:
        return self.name("transcripts")

    @property
    def standby_queue(self) -> str:
        return self.name("standby-pool")

    @property
    def dispatch_check_queue(self) -> str:
        return self.name("dispatch-check")

    @property
    def worker_queue(self) -> str:
        return self.name("worker")

    @property
    def ecs_cluster(self) -> str:
        return self.name("cluster")

    @property
    def bot_task_family(self) -> str:
        return self.name("bot")

    @property
    def bot_token_secret(self) -> str:
        return self.name("bot-token-secret")

    @property
    def daily_api_key_secret(self) -> str:
        return self.name("daily-api-key")

    @property
    def ecs_task_state_rule(self) -> str:
        return self.name("ecs-task-state")


class PortInUseError(OSError):
    """The requested 127.0.0.1 port is already taken."""


def ensure_port_free(port: int, what: str) -> None:
    """Raise ``PortInUseError`` when 127.0.0.1:``port`` cannot be bound (checked before starting servers)."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError as exc:
            raise PortInUseError(exc.errno, f"{what} port {HOST}:{port} is already in use") from None


class MotoServer:
    """moto's server in a thread of this process, bound to 127.0.0.1 only."""

    def __init__(self, port: int = DEFAULT_AWS_PORT) -> None:
        self.requested_port = port
        self.port: int | None = None
        self._server: Any = None

    @property
    def endpoint_url(self) -> str:
        if self.port is None:
            raise RuntimeError("moto server not started")
        return f"http://{HOST}:{self.port}"

    def start(self) -> str:
        """Start serving; returns the endpoint URL. ``PortInUseError`` when the port is taken."""
        from moto.server import ThreadedMotoServer

        # ThreadedMotoServer binds inside its thread and would wait forever if the bind failed.
        ensure_port_free(self.requested_port, "AWS (moto)")
        werkzeug_log = logging.getLogger("werkzeug")
        if werkzeug_log.level == logging.NOTSET:  # one access-log line per AWS call drowns the stack's output
            werkzeug_log.setLevel(logging.WARNING)
        self._server = ThreadedMotoServer(ip_address=HOST, port=self.requested_port, verbose=False)
        self._server.start()
        self.port = int(self._server.get_host_and_port()[1])
        return self.endpoint_url

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.stop()
        inner = getattr(self._server, "_server", None)
        if inner is not None:
            inner.server_close()  # stop() leaves the listening socket open until garbage collection
        self._server = None


def aws_environment(endpoint_url: str, region: str = DEFAULT_REGION) -> dict[str, str]:
    """Endpoint, region and dummy credentials so every boto3 client in the process talks to moto."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",  # moto's dummy credentials
        "AWS_SESSION_TOKEN": "testing",
    }


def local_client(service: str, endpoint_url: str, region: str = DEFAULT_REGION) -> Any:
    """A boto3 client on the local moto server, with moto's test credentials (never the user's)."""
    import boto3

    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
    )
    return session.client(service, endpoint_url=endpoint_url)  # type: ignore[call-overload]


def _clients(endpoint_url: str, region: str) -> dict[str, Any]:
    return {
        name: local_client(name, endpoint_url, region)
        for name in ("dynamodb", "s3", "sqs", "secretsmanager", "ecs", "events", "ec2", "kms")
    }


def _table(ddb: Any, name: str, key: str, ttl_attribute: str, gsi_key: str | None = None) -> None:
    attributes = [{"AttributeName": key, "AttributeType": "S"}]
    extra: dict[str, Any] = {}
    if gsi_key:
        attributes.append({"AttributeName": gsi_key, "AttributeType": "S"})
        extra["GlobalSecondaryIndexes"] = [
            {
                "IndexName": f"{gsi_key}-index",
                "KeySchema": [{"AttributeName": gsi_key, "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ]
    try:
        ddb.create_table(
            TableName=name,
            AttributeDefinitions=attributes,
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            **extra,
        )
    except ddb.exceptions.ResourceInUseException:
        return  # created by an earlier call against the same server
    ddb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl_attribute}
    )


def _queue(sqs: Any, name: str, visibility_timeout: int) -> tuple[str, str]:
    """A queue with its DLQ; returns (queue URL, DLQ URL)."""
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq", Attributes={"MessageRetentionPeriod": "1209600"})[
        "QueueUrl"
    ]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(DLQ_MAX_RECEIVE_COUNT)})
    url = sqs.create_queue(
        QueueName=name,
        Attributes={"VisibilityTimeout": str(visibility_timeout), "RedrivePolicy": redrive},
    )["QueueUrl"]
    return url, dlq_url


def _secret(sm: Any, name: str, value: str) -> str:
    """The secret's ARN; an existing secret keeps its value."""
    try:
        return str(sm.create_secret(Name=name, SecretString=value)["ARN"])
    except sm.exceptions.ResourceExistsException:
        return str(sm.describe_secret(SecretId=name)["ARN"])


def _kms_key(kms: Any, alias: str) -> str:
    """The module key (Terraform's aws_kms_key.voice), found by its alias when it exists already."""
    try:
        return str(kms.describe_key(KeyId=alias)["KeyMetadata"]["Arn"])
    except kms.exceptions.NotFoundException:
        arn = str(kms.create_key(Description="module-voice (local)")["KeyMetadata"]["Arn"])
        kms.create_alias(AliasName=alias, TargetKeyId=arn)
        return arn


def create_resources(
    endpoint_url: str, names: ResourceNames | None = None, *, region: str = DEFAULT_REGION
) -> dict[str, str]:
    """Create (or find) the module's resources on the AWS endpoint; returns them as Lambda env vars.

    Safe to call again against the same server. The Daily key secret holds ``DAILY_API_KEY`` when set,
    else a placeholder (the local Daily stand-in accepts any key).
    """
    names = names or ResourceNames()
    c = _clients(endpoint_url, region)

    _table(c["dynamodb"], names.connections_table, "connection_id", "expires_at", gsi_key="session_id")
    _table(c["dynamodb"], names.idempotency_table, "id", "expiration")

    s3 = c["s3"]
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=names.transcript_bucket)
    s3.put_bucket_encryption(
        Bucket=names.transcript_bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}
            ]
        },
    )
    s3.put_public_access_block(
        Bucket=names.transcript_bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )

    standby_url, standby_dlq = _queue(c["sqs"], names.standby_queue, visibility_timeout=60)
    dispatch_url, dispatch_dlq = _queue(c["sqs"], names.dispatch_check_queue, visibility_timeout=60)
    worker_url, worker_dlq = _queue(c["sqs"], names.worker_queue, visibility_timeout=900)

    bot_secret_arn = _secret(c["secretsmanager"], names.bot_token_secret, secrets.token_hex(32))
    daily_key = os.environ.get("DAILY_API_KEY") or "local-daily-placeholder-key"
    daily_secret_arn = _secret(c["secretsmanager"], names.daily_api_key_secret, daily_key)

    ecs = c["ecs"]
    cluster_arn = ecs.create_cluster(clusterName=names.ecs_cluster)["cluster"]["clusterArn"]
    ecs.register_task_definition(
        family=names.bot_task_family,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="1024",
        memory="2048",
        containerDefinitions=[
            {
                "name": BOT_CONTAINER_NAME,
                "image": "cora/voice-bot:local",
                "essential": True,
                # Container-level memory: moto's run_task sums it for placement (fails without it).
                "memory": 2048,
                "environment": [{"name": "AWS_REGION", "value": region}],
            }
        ],
    )
    # moto's default VPC provides the subnets and security group run_task's awsvpc config needs.
    ec2 = c["ec2"]
    subnets = [
        s["SubnetId"]
        for s in ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    ][:2]
    groups = [
        g["GroupId"]
        for g in ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["default"]}])[
            "SecurityGroups"
        ]
    ][:1]

    c["events"].put_rule(
        Name=names.ecs_task_state_rule,
        EventPattern=json.dumps(
            {
                "source": ["aws.ecs"],
                "detail-type": ["ECS Task State Change"],
                "detail": {"clusterArn": [cluster_arn]},
            }
        ),
        State="ENABLED",
    )

    return {
        "BOT_DISPATCH_KMS_KEY_ID": _kms_key(c["kms"], f"alias/{names.name('key')}"),
        "CONNECTIONS_TABLE": names.connections_table,
        "IDEMPOTENCY_TABLE": names.idempotency_table,
        "TRANSCRIPT_BUCKET": names.transcript_bucket,
        "STANDBY_QUEUE_URL": standby_url,
        "STANDBY_DLQ_URL": standby_dlq,
        "DISPATCH_CHECK_QUEUE_URL": dispatch_url,
        "DISPATCH_CHECK_DLQ_URL": dispatch_dlq,
        "WORKER_QUEUE_URL": worker_url,
        "WORKER_DLQ_URL": worker_dlq,
        "ECS_CLUSTER": names.ecs_cluster,
        "ECS_TASK_DEFINITION": names.bot_task_family,
        "ECS_CONTAINER_NAME": BOT_CONTAINER_NAME,
        "ECS_SUBNETS": ",".join(subnets),
        "ECS_SECURITY_GROUPS": ",".join(groups),
        "BOT_TOKEN_SECRET_ARN": bot_secret_arn,
        "DAILY_API_KEY_SECRET_ARN": daily_secret_arn,
    }


def configure_environment(
    endpoint_url: str,
    resources: Mapping[str, str],
    *,
    extra: Mapping[str, str] | None = None,
    region: str = DEFAULT_REGION,
) -> dict[str, str]:
    """Put the AWS endpoint/credentials, the resources and ``extra`` into ``os.environ``.

    The in-process Lambdas read their configuration from the environment, as in AWS. Returns
    exactly what was set (``LocalStack`` restores the previous values when it stops).
    """
    values = {
        **aws_environment(endpoint_url, region),
        "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon locally
        **resources,
        **(extra or {}),
    }
    os.environ.update(values)
    return values
