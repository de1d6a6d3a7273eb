"""Load Lambda handlers from ``backend/lambdas/<name>`` the way the AWS Python runtime does.

AWS puts the function's folder (``/var/task``) and the layers (``/opt/python``) on ``sys.path`` and
imports ``lambda_function``. Every Lambda here is called ``lambda_function``, so each one is imported
under its own module name; several Lambdas then coexist in one process (the local gateway, tests).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[3]
LAMBDAS_DIR = REPO_ROOT / "backend" / "lambdas"
LAYERS_DIR = REPO_ROOT / "backend" / "layers"
ACCOUNT_ID = "123456789012"  # moto's default account, so ARNs match the ones moto returns
DEFAULT_REGION = "us-east-1"

LambdaHandler = Callable[[dict[str, Any], Any], Any]

_lock = threading.RLock()
_handlers: dict[Path, LambdaHandler] = {}


class LambdaNotFoundError(FileNotFoundError):
    """The Lambda folder or its lambda_function.py does not exist."""


def layer_paths() -> list[Path]:
    """The ``python`` folder of every layer, as they appear under ``/opt/python`` in AWS."""
    return sorted(p for p in LAYERS_DIR.glob("*/python") if p.is_dir())


def ensure_layers_on_path() -> None:
    """Make the layers importable even when the venv's .pth file is not in effect (plain python, CI)."""
    for path in layer_paths():
        if str(path) not in sys.path:
            sys.path.append(str(path))


def _module_name(name: str, folder: Path) -> str:
    safe = re.sub(r"\W", "_", name)
    if folder.parent == LAMBDAS_DIR:
        return f"lambda_function__{safe}"
    # Lambdas loaded from another tree (tests) get a suffix so they never collide with the real ones.
    digest = hashlib.sha1(str(folder).encode(), usedforsecurity=False).hexdigest()[:8]
    return f"lambda_function__{safe}__{digest}"


def _import_lambda(name: str, folder: Path) -> ModuleType:
    source = folder / "lambda_function.py"
    if not source.is_file():
        raise LambdaNotFoundError(f"Lambda {name!r} not found: {source} does not exist")
    ensure_layers_on_path()
    module_name = _module_name(name, folder)
    spec = importlib.util.spec_from_file_location(module_name, source)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {source}")
    module = importlib.util.module_from_spec(spec)
    before = set(sys.modules)
    # The folder is on sys.path only while the module body runs, as /var/task is for its own
    # function: sibling modules it imports are renamed below so another Lambda's same-named
    # helper is imported fresh from that Lambda's folder.
    sys.path.insert(0, str(folder))
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    finally:
        sys.path.remove(str(folder))
    for added in set(sys.modules) - before:
        loaded = sys.modules.get(added)
        origin = getattr(loaded, "__file__", None) or ""
        if added != module_name and origin and Path(origin).resolve().is_relative_to(folder):
            sys.modules[f"{module_name}.{added}"] = sys.modules.pop(added)
    return module


def load_lambda(name: str, *, lambdas_dir: Path | None = None) -> LambdaHandler:
    """Return ``lambda_handler`` of ``backend/lambdas/<name>/lambda_function.py`` (imported once, cached).

    ``lambdas_dir`` points at another folder of Lambdas (tests with throw-away handlers).
    Raises ``LambdaNotFoundError`` when the folder has no ``lambda_function.py``.
    """
    folder = ((lambdas_dir or LAMBDAS_DIR) / name).resolve()
    with _lock:
        handler = _handlers.get(folder)
        if handler is None:
            module = _import_lambda(name, folder)
            handler = getattr(module, "lambda_handler", None)
            if not callable(handler):
                raise ImportError(f"{folder / 'lambda_function.py'} defines no callable lambda_handler")
            _handlers[folder] = handler
        return handler


def clear_lambda_cache() -> None:
    """Forget loaded handlers so the next ``load_lambda`` re-imports them (cold start measurements)."""
    with _lock:
        for folder in list(_handlers):
            prefix = _module_name(folder.name, folder)
            for module_name in [m for m in sys.modules if m == prefix or m.startswith(prefix + ".")]:
                del sys.modules[module_name]
        _handlers.clear()


@dataclass
class LambdaContext:
    """The attributes of ``awslambdaric``'s LambdaContext that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int = 512
    timeout_seconds: float = 30.0
    function_version: str = "$LATEST"
    region: str = DEFAULT_REGION
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    client_context: Any = None
    identity: Any = None
    tenant_id: str | None = None
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/[{self.function_version}]{self.aws_request_id.replace('-', '')}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def lambda_context(
    name: str, *, timeout_seconds: float = 30.0, memory_limit_in_mb: int = 512
) -> LambdaContext:
    """A fresh context for one invocation of Lambda ``name`` (new request id, full time budget)."""
    return LambdaContext(
        function_name=name, timeout_seconds=timeout_seconds, memory_limit_in_mb=memory_limit_in_mb
    )


def invoke_lambda(
    name: str, event: dict[str, Any], *, lambdas_dir: Path | None = None, context: Any = None
) -> Any:
    """Invoke a Lambda like the AWS service does: the event and the result go through JSON.

    The JSON round trip catches handlers that return objects AWS could not serialize.
    """
    handler = load_lambda(name, lambdas_dir=lambdas_dir)
    payload = json.loads(json.dumps(event))
    result = handler(payload, context or lambda_context(name))
    return json.loads(json.dumps(result))
