"""Modules imported on first use, so a Lambda's cold start only pays for what its route touches.

    if TYPE_CHECKING:
        import urllib3
    else:
        urllib3 = LazyModule("urllib3")

Attribute access (``urllib3.PoolManager``, ``urllib3.exceptions.HTTPError``) imports the module the first
time; ``sys.modules`` is left alone, so other importers are unaffected.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    __slots__ = ("_module", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attr)

    def __repr__(self) -> str:
        state = "loaded" if self._module is not None else "not loaded"
        return f"<LazyModule {self._name!r} ({state})>"
