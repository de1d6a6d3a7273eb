"""`make build` (voice_local.build): one zip per Lambda and per layer, byte-for-byte reproducible.

The module's own zips are built twice here, and so is the dependencies layer: resolved and installed
from PyPI twice, into two fresh caches (about 10 s with pip's download cache), and the two zips compared;
also with dist/ when `make build` made it from the same pins.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from voice_local import build


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    first, second = tmp_path_factory.mktemp("first"), tmp_path_factory.mktemp("second")
    build.build(first, deps=False)
    build.build(second, deps=False)
    return first, second


def test_same_sources_give_the_same_bytes(two_builds: tuple[Path, Path]) -> None:
    first, second = two_builds
    names = sorted(p.name for p in first.glob("*.zip"))
    assert names == sorted(p.name for p in second.glob("*.zip"))
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), f"{name} differs between builds"
    assert (first / "build-report.json").read_bytes() == (second / "build-report.json").read_bytes()


def test_one_zip_per_lambda_and_layer_in_the_lambda_layout(two_builds: tuple[Path, Path]) -> None:
    out, _ = two_builds
    report = json.loads((out / "build-report.json").read_text())["artifacts"]
    for name in build.lambda_names():
        with zipfile.ZipFile(out / f"{name}.zip") as archive:
            assert "lambda_function.py" in archive.namelist()
            assert not {"Dockerfile", "Dockerfile.dockerignore"} & set(archive.namelist()), (
                "build files stay out"
            )
        assert report[name]["size"] > 0
    for name in build.layer_names():
        with zipfile.ZipFile(out / f"layer-{name}.zip") as archive:
            entries = archive.namelist()
            assert f"python/{name}/__init__.py" in entries
            assert all(e.startswith(f"python/{name}/") for e in entries)
    with zipfile.ZipFile(out / "layer-voice_common.zip") as archive:
        assert "python/voice_common/module.config.yaml" in archive.namelist()


def test_entries_are_normalised(two_builds: tuple[Path, Path]) -> None:
    out, _ = two_builds
    for path in out.glob("*.zip"):
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            assert [i.filename for i in infos] == sorted(i.filename for i in infos)
            for info in infos:
                assert info.date_time == build.ZIP_EPOCH
                assert info.external_attr >> 16 == 0o100644
                assert "__pycache__" not in info.filename and not info.filename.endswith(".pyc")


@pytest.mark.slow
def test_dependencies_layer_is_reproducible_and_runtime_only(tmp_path: Path) -> None:
    # Two independent resolutions and installs (not build/lambda-deps/, which `make build` keeps).
    artifact, pins = build.build_dependencies(tmp_path / "one", cache_root=tmp_path / "cache-one")
    again, pins_again = build.build_dependencies(tmp_path / "two", cache_root=tmp_path / "cache-two")
    assert pins == pins_again
    assert artifact.path.read_bytes() == again.path.read_bytes(), "same pins, different layer bytes"
    dist = build.REPO_ROOT / "dist"
    report = dist / "build-report.json"
    if report.is_file() and json.loads(report.read_text()).get("dependencies") == pins:
        assert artifact.path.read_bytes() == (dist / "layer-dependencies.zip").read_bytes()
    with zipfile.ZipFile(artifact.path) as archive:
        tops = {name.split("/")[1] for name in archive.namelist()}
    assert {"pydantic", "psycopg", "aws_lambda_powertools", "yaml", "jwt"} <= tops
    assert not tops & {"boto3", "botocore", "bin"}, "runtime-provided packages and scripts stay out"
