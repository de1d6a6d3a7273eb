"""Package the Lambdas and their layers into deterministic zips (``make build`` -> ``dist/``).

- ``<lambda>.zip`` per ``backend/lambdas/<lambda>/`` (``lambda_function.py`` at the root);
- ``layer-<name>.zip`` per ``backend/layers/<name>/python/`` (as ``python/<package>/...``, the layout
  Lambda mounts at ``/opt/python``); the voice_common layer also carries ``module.config.yaml``, where
  ``voice_common.settings`` looks for it;
- ``layer-dependencies.zip``: the runtime dependencies of ``pyproject.toml`` for Lambda's platform
  (manylinux2014 x86_64, CPython 3.11, wheels only), minus what the Lambda runtime already provides
  (boto3, botocore and their dependencies);
- ``build-report.json``: sizes and SHA-256 (base64, as Terraform's ``filebase64sha256``) of every zip.

Same inputs, same bytes: entries sorted, fixed timestamps and permissions, no ``__pycache__``. The
resolved dependency set is cached under ``build/lambda-deps/`` keyed by the requirements, so rebuilding
needs no network and cannot drift; delete the cache to pick up new releases.

Usage: ``python -m voice_local.build [--out dist] [--no-deps]``
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
LAMBDAS_DIR = REPO_ROOT / "backend" / "lambdas"
LAYERS_DIR = REPO_ROOT / "backend" / "layers"
DEPS_CACHE = REPO_ROOT / "build" / "lambda-deps"

# Lambda's python3.11 runtime (x86_64).
PIP_PLATFORM = ["--platform", "manylinux2014_x86_64", "--implementation", "cp", "--python-version", "3.11"]
PIP_PLATFORM += ["--abi", "cp311", "--only-binary=:all:"]
# Provided by the Lambda runtime: packaging them again only costs size and cold start.
RUNTIME_PROVIDED = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"}
)
# Never shipped: caches, compiled bytecode, test suites.
EXCLUDED_DIRS = frozenset({"__pycache__", ".mypy_cache", ".pytest_cache", "tests"})
EXCLUDED_SUFFIXES = (".pyc", ".pyo")
# Build files beside a Lambda's code (voice-preview's container image): not part of the zip.
EXCLUDED_FILES = frozenset({"Dockerfile", "Dockerfile.dockerignore", ".dockerignore"})
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024  # function + layers, unzipped


@dataclass(frozen=True)
class Artifact:
    name: str
    path: Path
    files: int
    size: int
    unzipped: int
    sha256: str  # base64, as Terraform's filebase64sha256

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.path.name,
            "files": self.files,
            "size": self.size,
            "unzipped": self.unzipped,
            "sha256": self.sha256,
        }


def _included(path: Path, root: Path) -> bool:
    rel = path.relative_to(root)
    return (
        not (set(rel.parts[:-1]) & EXCLUDED_DIRS)
        and not path.name.endswith(EXCLUDED_SUFFIXES)
        and path.name not in EXCLUDED_FILES
    )


def tree_files(root: Path, prefix: str = "") -> Iterator[tuple[str, Path]]:
    """(archive name, file) for every file under ``root`` that belongs in a package."""
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink() and _included(path, root):
            yield prefix + path.relative_to(root).as_posix(), path


def write_zip(target: Path, entries: Iterable[tuple[str, Path | bytes]]) -> Artifact:
    """A reproducible zip: sorted names, fixed time, 0644 files, deflate level 9."""
    items = sorted(entries, key=lambda item: item[0])
    names = [name for name, _ in items]
    if len(names) != len(set(names)):
        raise ValueError(f"{target.name}: duplicate archive entries")
    buffer = io.BytesIO()
    unzipped = 0
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, source in items:
            data = source if isinstance(source, bytes) else source.read_bytes()
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.external_attr = 0o100644 << 16  # regular file, rw-r--r--
            info.create_system = 3  # Unix, whatever the build host
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data, compresslevel=9)
            unzipped += len(data)
    payload = buffer.getvalue()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(payload)
    digest = base64.b64encode(hashlib.sha256(payload).digest()).decode()
    return Artifact(target.stem, target, len(items), len(payload), unzipped, digest)


# --- the module's own code -------------------------------------------------------------------------------


def lambda_names() -> list[str]:
    return sorted(p.name for p in LAMBDAS_DIR.iterdir() if (p / "lambda_function.py").is_file())


def layer_names() -> list[str]:
    return sorted(p.name for p in LAYERS_DIR.iterdir() if (p / "python").is_dir())


def build_lambda(name: str, out: Path) -> Artifact:
    return write_zip(out / f"{name}.zip", tree_files(LAMBDAS_DIR / name))


def build_layer(name: str, out: Path) -> Artifact:
    entries: list[tuple[str, Path | bytes]] = list(tree_files(LAYERS_DIR / name / "python", "python/"))
    if name == "voice_common":
        entries.append(("python/voice_common/module.config.yaml", REPO_ROOT / "module.config.yaml"))
    return write_zip(out / f"layer-{name}.zip", entries)


# --- runtime dependencies -----------------------------------------------------------------------------------


def runtime_requirements() -> list[str]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    return sorted(str(req) for req in project.get("dependencies", []))


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _pip(*args: str) -> str:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args]
    result = subprocess.run(command, check=False, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"pip {args[0]} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def resolve_dependencies(requirements: list[str]) -> list[str]:
    """Exact pins (``name==version``) for Lambda's platform, without what the runtime provides."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        _pip("install", "--dry-run", "--ignore-installed", "--quiet", "--report", str(report),
             *PIP_PLATFORM, "--target", str(Path(tmp) / "target"), *requirements)  # fmt: skip
        resolved = json.loads(report.read_text())["install"]
    pins = {
        _canonical(item["metadata"]["name"]): f"{item['metadata']['name']}=={item['metadata']['version']}"
        for item in resolved
    }
    return sorted(pin for name, pin in pins.items() if name not in RUNTIME_PROVIDED)


def dependencies_cache(requirements: list[str], cache_root: Path | None = None) -> Path:
    """Where the installed dependencies of ``requirements`` are kept (``python/`` + ``requirements.lock``)."""
    key = hashlib.sha256(json.dumps([requirements, PIP_PLATFORM, sorted(RUNTIME_PROVIDED)]).encode())
    return (cache_root or DEPS_CACHE) / key.hexdigest()[:16]


def dependencies_tree(requirements: list[str], cache_root: Path | None = None) -> tuple[Path, list[str]]:
    """The installed ``python/`` tree of the dependencies layer (cached by requirements) and its pins."""
    cache_root = cache_root or DEPS_CACHE
    cache = dependencies_cache(requirements, cache_root)
    lock = cache / "requirements.lock"
    if lock.is_file() and (cache / "python").is_dir():
        return cache / "python", lock.read_text().split()
    pins = resolve_dependencies(requirements)
    cache_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="staging-", dir=cache_root))
    try:
        _pip("install", "--quiet", "--no-deps", "--no-compile", *PIP_PLATFORM,
             "--target", str(staging / "python"), *pins)  # fmt: skip
        _strip_install_records(staging / "python")
        (staging / "requirements.lock").write_text("\n".join(pins) + "\n")
        shutil.rmtree(cache, ignore_errors=True)
        staging.rename(cache)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return cache / "python", pins


def _strip_install_records(tree: Path) -> None:
    """Remove what depends on the build machine: console scripts (their shebang is this interpreter's
    path) and the RECORD files hashing them. Neither is used at run time."""
    shutil.rmtree(tree / "bin", ignore_errors=True)
    for record in [*tree.glob("*.dist-info/RECORD"), *tree.glob("*.dist-info/direct_url.json")]:
        record.unlink()


def build_dependencies(out: Path, cache_root: Path | None = None) -> tuple[Artifact, list[str]]:
    """``layer-dependencies.zip`` in ``out``; ``cache_root`` (default build/lambda-deps) keeps the install."""
    tree, pins = dependencies_tree(runtime_requirements(), cache_root)
    return write_zip(out / "layer-dependencies.zip", tree_files(tree, "python/")), pins


# --- the command --------------------------------------------------------------------------------------------


def build(out: Path, *, deps: bool = True) -> list[Artifact]:
    out.mkdir(parents=True, exist_ok=True)
    artifacts = [build_lambda(name, out) for name in lambda_names()]
    artifacts += [build_layer(name, out) for name in layer_names()]
    pins: list[str] = []
    if deps:
        artifact, pins = build_dependencies(out)
        artifacts.append(artifact)
    report = {
        "artifacts": {a.name: a.as_dict() for a in artifacts},
        "dependencies": pins,
        "platform": " ".join(PIP_PLATFORM),
    }
    (out / "build-report.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    return artifacts


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):8.2f} MB"


def print_report(artifacts: list[Artifact]) -> None:
    print(f"{'artifact':<26}{'files':>7}{'zipped':>12}{'unzipped':>12}  sha256 (base64)")
    for a in artifacts:
        print(f"{a.path.name:<26}{a.files:>7}{_mb(a.size)}{_mb(a.unzipped)}  {a.sha256}")
    layers = sum(a.unzipped for a in artifacts if a.name.startswith("layer-"))
    largest = max((a.unzipped for a in artifacts if not a.name.startswith("layer-")), default=0)
    print(
        f"layers unzipped: {_mb(layers).strip()}; largest function + layers: {_mb(layers + largest).strip()}"
    )
    if layers + largest > LAMBDA_UNZIPPED_LIMIT:
        print("WARNING: above Lambda's 250 MB unzipped limit", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--out", type=Path, default=REPO_ROOT / "dist", help="output directory (default: dist/)"
    )
    parser.add_argument(
        "--no-deps", action="store_true", help="skip the dependencies layer (no pip, no network)"
    )
    args = parser.parse_args(argv)
    try:
        artifacts = build(args.out, deps=not args.no_deps)
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    print_report(artifacts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
