"""Run the terraform CLI on infrastructure/ offline, where the machine has it.

Nothing is downloaded: the binary must be on PATH and the AWS provider in a local plugin directory
(``TF_PLUGIN_DIR``, else ``/opt/tf-plugins``; ``registry.terraform.io/hashicorp/aws/<version>/<os_arch>``).
The module is copied to a scratch directory first. If the ``random`` provider is not in the plugin
directory (it is not on this project's machines), the copy's one ``random_password`` becomes a
``terraform_data`` stand-in and ``random`` leaves required_providers; everything else is the module as is.
Mock providers (``terraform test``, ``mock_provider``) keep every run away from AWS.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tests.infrastructure.terraform import ROOT, TF_DIR

PLUGIN_DIR = Path(os.environ.get("TF_PLUGIN_DIR", "/opt/tf-plugins"))
HASHICORP = PLUGIN_DIR / "registry.terraform.io" / "hashicorp"


def terraform_binary() -> str | None:
    return shutil.which("terraform")


def has_provider(name: str) -> bool:
    return any(p.is_dir() for p in (HASHICORP / name).glob("*/*"))


def env(scratch: Path) -> dict[str, str]:
    """No CLI config from the home directory, no version check against HashiCorp, no prompts, no colour."""
    config = scratch / "terraformrc"
    if not config.exists():
        config.write_text("")
    return {
        **os.environ,
        "TF_CLI_CONFIG_FILE": str(config),
        "CHECKPOINT_DISABLE": "1",
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "NO_COLOR": "1",
    }


@dataclass
class Result:
    returncode: int
    output: str


def run(args: list[str], cwd: Path, scratch: Path, timeout: float = 180) -> Result:
    binary = terraform_binary()
    assert binary, "terraform is not on PATH"
    proc = subprocess.run(
        [binary, *args, *(["-no-color"] if args[0] in {"init", "validate", "test", "fmt"} else [])],
        cwd=cwd,
        env=env(scratch),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Result(proc.returncode, proc.stdout + proc.stderr)


def _stub_random(module: Path) -> None:
    secrets = module / "secrets.tf"
    text, count = re.subn(
        r'resource "random_password" "bot_token" \{.*?\n\}\n',
        'resource "terraform_data" "bot_token" {\n  count = local.enabled ? 1 : 0\n'
        '  input = { result = "stand-in" }\n}\n',
        secrets.read_text(),
        flags=re.S,
    )
    assert count == 1, "secrets.tf changed: update tests/infrastructure/tfcli.py"
    secrets.write_text(
        text.replace("random_password.bot_token[0].result", "terraform_data.bot_token[0].output.result")
    )
    versions = module / "versions.tf"
    text, count = re.subn(r"\n\s*random = \{[^}]*\}", "", versions.read_text())
    assert count == 1, "versions.tf changed: update tests/infrastructure/tfcli.py"
    versions.write_text(text)


def write_artifacts(target: Path) -> Path:
    """Stand-in zips where `make build` puts the real ones (Terraform only hashes them)."""
    from voice_local import build

    target.mkdir(parents=True, exist_ok=True)
    names = [*build.lambda_names(), *(f"layer-{n}" for n in [*build.layer_names(), "dependencies"])]
    for name in names:
        with zipfile.ZipFile(target / f"{name}.zip", "w") as archive:
            archive.writestr("placeholder.txt", name)
    return target


def prepare_module(scratch: Path) -> Path:
    """A copy of infrastructure/ (with its module.json beside it), initialised from the plugin directory."""
    module = scratch / "infrastructure"
    shutil.copytree(TF_DIR, module, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    shutil.copy(ROOT / "module.json", scratch / "module.json")
    if not has_provider("random"):
        _stub_random(module)
    result = run(["init", "-backend=false", f"-plugin-dir={PLUGIN_DIR}", "-input=false"], module, scratch)
    assert result.returncode == 0, result.output
    return module
