"""infrastructure/ checked by the terraform CLI itself, offline (tests/infrastructure/tfcli.py).

- every good value of tests/infrastructure/variable_samples.py passes variables.tf's validation and every
  bad one fails it (a harness holding only variables.tf: needs the terraform binary, no provider);
- `terraform fmt` has nothing to change;
- `terraform validate` against the AWS provider's schema, and `terraform test` plans of the whole module
  against mock providers (tests/infrastructure/tftest/module.tftest.hcl): the voice-preview zip/image
  modes, the preview rate limit and cache wiring, the REST 5XX alarm for the own and the platform API,
  cross-variable preconditions. These need the AWS provider in the local plugin directory.

Skipped, with the reason, where the machine lacks terraform or the provider (nothing is downloaded);
test_variables.py keeps the static part of these checks in every run.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.infrastructure import tfcli
from tests.infrastructure.terraform import TF_DIR
from tests.infrastructure.variable_samples import REQUIRED, SAMPLES

HERE = Path(__file__).resolve().parent

needs_terraform = pytest.mark.skipif(
    tfcli.terraform_binary() is None, reason="terraform is not on PATH (nothing is downloaded in tests)"
)
needs_provider = pytest.mark.skipif(
    tfcli.terraform_binary() is None or not tfcli.has_provider("aws"),
    reason=f"terraform or the AWS provider in {tfcli.PLUGIN_DIR} is missing (nothing is downloaded in tests)",
)


def hcl(value: Any) -> str:
    """A Python value as an HCL expression."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value).replace("${", "$${").replace("%{", "%%{")
    if isinstance(value, list):
        return "[" + ", ".join(hcl(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{hcl(str(k))} = {hcl(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


def validation_harness() -> tuple[str, dict[str, tuple[str, Any, bool]]]:
    """A .tftest.hcl with one plan per sample value; run name -> (variable, value, accepted)."""
    runs: dict[str, tuple[str, Any, bool]] = {}
    blocks = ["variables {", *(f"  {k} = {hcl(v)}" for k, v in REQUIRED.items()), "}", ""]
    # Every default passes its own validation.
    runs["defaults"] = ("(defaults)", None, True)
    blocks += ['run "defaults" {', "  command = plan", "}", ""]
    for name, (good, bad) in SAMPLES.items():
        for accepted, values in ((True, good), (False, bad)):
            for i, value in enumerate(values):
                run = f"{'good' if accepted else 'bad'}_{name}_{i}"
                runs[run] = (name, value, accepted)
                blocks += [
                    f'run "{run}" {{',
                    "  command = plan",
                    "  variables {",
                    f"    {name} = {hcl(value)}",
                    "  }",
                ]
                if not accepted:
                    blocks.append(f"  expect_failures = [var.{name}]")
                blocks += ["}", ""]
    return "\n".join(blocks), runs


@needs_terraform
def test_variable_validations_accept_good_and_reject_bad_values(tmp_path: Path) -> None:
    harness = tmp_path / "variables"
    (harness / "tests").mkdir(parents=True)
    shutil.copy(TF_DIR / "variables.tf", harness / "variables.tf")
    text, runs = validation_harness()
    (harness / "tests" / "samples.tftest.hcl").write_text(text)
    init = tfcli.run(["init", "-backend=false", "-input=false"], harness, tmp_path)
    assert init.returncode == 0, init.output

    result = tfcli.run(["test"], harness, tmp_path, timeout=300)

    outcome = dict(re.findall(r'run "([A-Za-z0-9_]+)"\.\.\. (pass|fail|skip)', result.output))
    wrong = {
        run: f"{name} = {value!r} was {'refused' if accepted else 'accepted'}"
        for run, (name, value, accepted) in runs.items()
        if outcome.get(run) != "pass"
    }
    assert not wrong, f"{wrong}\n\n{result.output[-4000:]}"
    assert result.returncode == 0, result.output[-4000:]


@needs_terraform
def test_terraform_files_are_formatted(tmp_path: Path) -> None:
    result = tfcli.run(["fmt", "-check", "-diff", "-recursive", str(TF_DIR)], TF_DIR, tmp_path)
    assert result.returncode == 0, f"run `terraform fmt infrastructure`:\n{result.output}"
    harness = HERE / "tftest"
    result = tfcli.run(["fmt", "-check", "-diff", "-recursive", str(harness)], harness, tmp_path)
    assert result.returncode == 0, f"run `terraform fmt {harness}`:\n{result.output}"


@pytest.fixture(scope="module")
def module_copy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    scratch = tmp_path_factory.mktemp("terraform")
    module = tfcli.prepare_module(scratch)
    tfcli.write_artifacts(module / "artifacts")
    return scratch, module


@needs_provider
def test_module_validates_against_the_aws_provider_schema(module_copy: tuple[Path, Path]) -> None:
    scratch, module = module_copy
    result = tfcli.run(["validate"], module, scratch)
    assert result.returncode == 0, result.output


@needs_provider
def test_module_plans_as_the_wiring_tests_expect(module_copy: tuple[Path, Path]) -> None:
    scratch, module = module_copy
    tests = module / "tests"
    tests.mkdir(exist_ok=True)
    for source in (HERE / "tftest").glob("*.tftest.hcl"):
        shutil.copy(source, tests / source.name)

    result = tfcli.run(["test"], module, scratch, timeout=300)

    runs = re.findall(r'run "([A-Za-z0-9_]+)"\.\.\. (pass|fail|skip)', result.output)
    assert runs, result.output
    assert result.returncode == 0 and all(state == "pass" for _, state in runs), result.output[-6000:]
