"""variables.tf statically (python-hcl2 and Python's re): every input that can be wrong is validated.

The terraform CLI proves the same validations on the same samples (test_terraform_cli.py) where it is
installed; these checks run everywhere.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

import pytest
import yaml

from tests.infrastructure.terraform import ROOT, Config, load
from tests.infrastructure.variable_samples import SAMPLES

LAMBDA_NAMES = sorted(
    p.name for p in (ROOT / "backend" / "lambdas").iterdir() if (p / "lambda_function.py").is_file()
)
# HCL string literal inside regex("...", <subject>), optionally negated with !can(...).
_REGEX = re.compile(r'(!?)can\(regex\("((?:[^"\\]|\\.)*)",\s*([^)]+)\)\)')


@pytest.fixture(scope="module")
def tf() -> Config:
    return load()


def variable_source(tf: Config, name: str) -> str:
    text = tf.files["variables.tf"]
    match = re.search(rf'variable "{re.escape(name)}" \{{\n.*?\n\}}\n', text, flags=re.S)
    assert match, name
    return match.group(0)


def regexes(tf: Config, name: str) -> list[tuple[bool, re.Pattern[str]]]:
    """(must match, pattern) for each regex the variable's validations apply to its value or elements."""
    found = []
    for negated, literal, _subject in _REGEX.findall(variable_source(tf, name)):
        pattern = re.sub(r"\\(.)", r"\1", literal)  # HCL string escapes: \\ -> \, \" -> "
        found.append((not negated, re.compile(pattern)))
    return found


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def test_every_input_that_can_be_wrong_is_validated(tf: Config) -> None:
    unvalidated = [
        name for name, body in tf.variables.items() if body.get("type") != "bool" and "validation" not in body
    ]
    assert not unvalidated, f"variables without a validation block: {unvalidated}"


def test_every_validation_is_proven_by_samples(tf: Config) -> None:
    validated = {name for name, body in tf.variables.items() if "validation" in body}
    assert set(SAMPLES) == validated, (
        "tests/infrastructure/variable_samples.py: one entry per validated variable"
    )
    for name, (good, bad) in SAMPLES.items():
        assert good and bad, f"{name}: needs accepted and rejected samples"
    # (The defaults themselves: test_terraform_cli.py plans the harness with every default.)


def test_error_messages_name_their_variable(tf: Config) -> None:
    for name, body in tf.variables.items():
        for validation in body.get("validation", []) if isinstance(body.get("validation"), list) else []:
            assert name in str(validation["error_message"]), f"{name}: the error message should name it"


def literal_alternatives(tf: Config, name: str) -> set[str]:
    """Values a validation accepts by equality before any regex (``o == "*" || can(regex(...))``)."""
    return set(re.findall(r'== "([^"]*)" \|\|', variable_source(tf, name)))


@pytest.mark.parametrize("name", sorted(n for n in SAMPLES if _REGEX.search(variable_source(load(), n))))
def test_validation_regexes_on_the_samples(tf: Config, name: str) -> None:
    checks = regexes(tf, name)
    good, bad = SAMPLES[name]
    for value in good:
        for text in set(strings(value)) - literal_alternatives(tf, name):
            for must, pattern in checks:
                assert bool(pattern.search(text)) == must, f"{name}: {text!r} vs {pattern.pattern!r}"
    for value in bad:
        texts = strings(value)
        if not texts:
            continue  # a wrong type, an empty list or a number: only terraform can tell
        assert any(bool(pattern.search(t)) != must for t in texts for must, pattern in checks), (
            f"{name}: {value!r} passes every regular expression of its validation"
        )


def test_reserved_concurrency_keys_are_the_lambda_names(tf: Config) -> None:
    source = variable_source(tf, "lambda_reserved_concurrency")
    listed = re.search(r"contains\(\[([^\]]*)\], name\)", source)
    assert listed, "lambda_reserved_concurrency validates its keys against the Lambda names"
    assert sorted(re.findall(r'"([a-z-]+)"', listed.group(1))) == LAMBDA_NAMES
    assert set(tf.variables["lambda_reserved_concurrency"]["default"]) == set(LAMBDA_NAMES)


def test_drain_timeout_stays_below_the_ecs_stop_timeout(tf: Config) -> None:
    stop_timeout = int(re.search(r"stopTimeout\s*=\s*(\d+)", tf.files["ecs.tf"]).group(1))  # type: ignore[union-attr]
    good, bad = SAMPLES["bot_drain_timeout_seconds"]
    assert max(v for v in good if v is not None) < stop_timeout
    assert stop_timeout in bad, (
        "a drain as long as the stop timeout leaves no time to report the cut interview"
    )


# --- voice-preview: rate limit, cache lifetime, container image ---------------------------------------------


def test_preview_rate_limit_is_a_variable_wired_to_the_lambda(tf: Config) -> None:
    settings = yaml.safe_load((ROOT / "module.config.yaml").read_text())["settings"]
    assert (
        tf.variables["preview_rate_limit_per_minute"]["default"] == settings["preview_rate_limit_per_minute"]
    )
    group = tf.locals["lambda_env_groups"]["preview"]
    assert group["VOICE_PREVIEW_RATE_LIMIT_PER_MINUTE"] == "${tostring(var.preview_rate_limit_per_minute)}"
    assert "preview" in tf.locals["lambdas"]["voice-preview"]["env_groups"]
    # voice_common.settings reads VOICE_<SETTING> for every scalar setting, this one included.
    from voice_common.settings import load_settings

    assert (
        load_settings(env={"VOICE_PREVIEW_RATE_LIMIT_PER_MINUTE": "45"}).preview_rate_limit_per_minute == 45
    )


def test_preview_cache_lifetime_in_the_docs_is_terraforms(tf: Config) -> None:
    days = tf.variables["preview_cache_days"]["default"]
    rule = str(tf.resource("aws_s3_bucket_lifecycle_configuration", "transcripts")["rule"])
    assert "expire-voice-previews" in rule and "var.preview_cache_days" in rule
    doc = (ROOT / "docs" / "api" / "preview.md").read_text()
    cache = doc.split("## Cache", 1)[1].split("\n## ", 1)[0]
    assert "`preview_cache_days`" in cache and f"default {days} days" in cache, cache
    assert not re.search(r"\b1 day\b", cache)


def test_preview_can_be_deployed_as_a_container_image(tf: Config) -> None:
    images = tf.locals["lambda_images"].replace('":', '" =')
    assert images == '${var.preview_image_uri != null ? {"voice-preview" = var.preview_image_uri} : {}}'
    fn = tf.resource("aws_lambda_function", "voice")
    image = "contains(keys(local.lambda_images), each.key)"
    assert fn["package_type"] == f'${{{image} ? "Image" : "Zip"}}'
    assert fn["image_uri"] == "${lookup(local.lambda_images, each.key, null)}"
    for attribute in ("handler", "runtime", "filename", "source_code_hash"):
        assert str(fn[attribute]).startswith(f"${{{image} ? null : "), attribute
    assert str(fn["layers"]).startswith(f"${{{image} ? [] : ")


def test_preview_dockerfile_installs_the_layers_and_piper() -> None:
    dockerfile = (ROOT / "backend" / "lambdas" / "voice-preview" / "Dockerfile").read_text()
    assert re.search(r"^FROM public\.ecr\.aws/lambda/python:3\.11\b", dockerfile, flags=re.M)
    from voice_local import build

    for layer in [*build.layer_names(), "dependencies"]:
        assert f"dist/layer-{layer}.zip" in dockerfile, f"the image lacks the {layer} layer"
    assert "dist/voice-preview.zip" in dockerfile
    assert re.search(r'^CMD \["lambda_function\.lambda_handler"\]', dockerfile, flags=re.M)
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for requirement in extras["preview-piper"]:
        assert f'"{requirement}"' in dockerfile, f"the image installs {requirement} (pyproject preview-piper)"


# --- REST 5XX alarm -----------------------------------------------------------------------------------------


def test_rest_5xx_alarm_follows_the_api_that_serves_the_routes(tf: Config) -> None:
    alarm = tf.resource("aws_cloudwatch_metric_alarm", "rest_5xx")
    switch = tf.expand(alarm["count"])
    assert "var.create_rest_api" in switch and "var.platform_rest_api_name" in switch
    assert alarm["dimensions"] == "${local.rest_alarm_dimensions}"
    names = tf.expand(tf.locals["rest_alarm_api"])
    assert "aws_api_gateway_rest_api.voice" in names and "var.platform_rest_api_name" in names
