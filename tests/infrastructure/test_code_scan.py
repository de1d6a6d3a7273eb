"""The static scanner behind the Terraform checks, on small synthetic code bases (so a pattern the module's
code starts using either is understood or makes these tests the place to extend)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.infrastructure.code_scan import Scan, scan


def _write(root: Path, files: dict[str, str]) -> None:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))


def _scan(tmp_path: Path, files: dict[str, str]) -> Scan:
    layer = tmp_path / "layer"
    function = tmp_path / "function"
    _write(layer, {k: v for k, v in files.items() if k != "lambda_function.py"})
    _write(function, {"lambda_function.py": files["lambda_function.py"]})
    return scan(function / "lambda_function.py", [layer])


def test_environment_reads_in_every_form(tmp_path: Path) -> None:
    result = _scan(
        tmp_path,
        {
            "lambda_function.py": "from pkg import settings\n\nSETTINGS = settings.load()\n",
            "pkg/__init__.py": "",
            "pkg/settings.py": """
                import os
                from typing import TYPE_CHECKING

                if TYPE_CHECKING:
                    from pkg import never_imported

                A = os.environ["REQUIRED_A"]

                def _float(name, default):
                    return float(os.environ.get(name, default))

                def _setting(name):
                    return os.environ[name]

                def load(env=None, service="x"):
                    env = os.environ if env is None else env
                    b = env.get("REQUIRED_B") or ""
                    c = os.getenv("OPTIONAL_C", "fallback")
                    d = "PRESENT_D" in os.environ and os.environ["PRESENT_D"]
                    e = _float("OPTIONAL_E", 1.5)
                    f = _setting("REQUIRED_F")
                    g = os.environ.get(f"{service.upper()}_URL")
                    h = os.environ.get(CONFIG.url_env)
                    return a, b, c, d, e, f, g, h
            """,
            "pkg/never_imported.py": "import os\nX = os.environ['NEVER']\n",
        },
    )
    assert result.required_env == {"REQUIRED_A", "REQUIRED_B", "REQUIRED_F"}  # only code that can run counts
    assert {"OPTIONAL_C", "PRESENT_D", "OPTIONAL_E"} <= result.env_names
    assert result.reads("DAILY_URL") and not result.reads("NEVER")
    assert result.dynamic_env == {("pkg.settings", "CONFIG.url_env")}
    assert "pkg.never_imported" not in result.modules


def test_aws_calls_through_every_kind_of_client(tmp_path: Path) -> None:
    result = _scan(
        tmp_path,
        {
            "lambda_function.py": """
                from pkg import work

                def lambda_handler(event, context):
                    work.run()
            """,
            "pkg/__init__.py": "",
            "pkg/aws.py": """
                import boto3

                def client(service):
                    return boto3.client(service)
            """,
            "pkg/work.py": """
                import os
                import boto3
                from pkg.aws import client

                def _sm():
                    return client("secretsmanager")

                class Poller:
                    def __init__(self):
                        self.sqs = boto3.client("sqs")

                    def poll(self, url):
                        self.sqs.receive_message(QueueUrl=url)
                        return self.sqs.delete_message  # a bound method handed elsewhere

                def run():
                    client("sqs").send_message(QueueUrl=os.environ["JOBS_QUEUE_URL"], MessageBody="{}")
                    s3 = client("s3")
                    s3.put_object(Bucket=os.environ["BUCKET"], Key="k", Body=b"")
                    for page in s3.get_paginator("list_object_versions").paginate(Bucket="b"):
                        pass
                    _sm().create_secret(Name="n", SecretString="v", Tags=[])
                    table = boto3.resource("dynamodb").Table(os.environ["TABLE"])
                    table.put_item(Item={})
                    Poller().poll("u")
                    api = client("apigatewaymanagementapi", endpoint_url="e")
                    api.post_to_connection(ConnectionId="c", Data=b"")

                def never_called():
                    client("ecs").run_task(cluster="c", taskDefinition="t")
            """,
        },
    )
    live = {(c.service, c.operation) for c in result.live_calls}
    assert live == {
        ("sqs", "SendMessage"),
        ("sqs", "ReceiveMessage"),
        ("sqs", "DeleteMessage"),
        ("s3", "PutObject"),
        ("s3", "ListObjectVersions"),
        ("secretsmanager", "CreateSecret"),
        ("secretsmanager", "TagResource"),
        ("dynamodb", "PutItem"),
        ("apigatewaymanagementapi", "PostToConnection"),
    }
    assert ("ecs", "RunTask") in {(c.service, c.operation) for c in result.aws_calls}, "seen, but unreachable"
    actions = {a for c in result.live_calls for a in c.iam_actions}
    assert {"s3:ListBucketVersions", "execute-api:ManageConnections", "sqs:SendMessage"} <= actions
    targets = {c.operation: c.env for c in result.live_calls}
    assert targets["SendMessage"] == {"JOBS_QUEUE_URL"}
    assert targets["PutObject"] == {"BUCKET"}
    assert targets["PutItem"] == {"TABLE"}


def test_reachability_follows_module_aliases_and_references(tmp_path: Path) -> None:
    result = _scan(
        tmp_path,
        {
            "lambda_function.py": """
                from pkg import service as svc

                HANDLERS = {"go": svc.entry}
            """,
            "pkg/__init__.py": "",
            "pkg/service.py": """
                from pkg.aws import client

                def entry():
                    return _helper()

                def _helper():
                    client("sqs").send_message(QueueUrl="q", MessageBody="")

                def admin_only():
                    client("sqs").purge_queue(QueueUrl="q")
            """,
            "pkg/aws.py": "import boto3\n\ndef client(name):\n    return boto3.client(name)\n",
        },
    )
    assert {c.operation for c in result.live_calls} == {"SendMessage"}
    assert {c.operation for c in result.aws_calls} == {"SendMessage", "PurgeQueue"}
