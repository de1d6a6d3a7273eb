"""Read infrastructure/*.tf statically (python-hcl2; no terraform binary, no provider).

Values are HCL expressions as strings (``"${aws_sqs_queue.worker[0].url}"``); references are extracted
with a regular expression and ``local.*`` references are expanded from the locals, so a value can be
traced to the resources it names.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2

ROOT = Path(__file__).resolve().parents[2]
TF_DIR = ROOT / "infrastructure"

# References that only build names and ARNs (region, account, partition), never a target.
_NAMING = re.compile(r"^data\.aws_(region|caller_identity|partition)\.")
_REF = re.compile(
    r"\b(?:data\.aws_[a-z0-9_]+\.[a-z0-9_]+|aws_[a-z0-9_]+\.[a-z0-9_]+|random_[a-z_]+\.[a-z0-9_]+|var\.[a-z0-9_]+)"
)
_LOCAL = re.compile(r"\blocal\.([a-z0-9_]+)")


def _loads(text: str) -> dict[str, Any]:
    try:
        from hcl2.utils import SerializationOptions  # python-hcl2 >= 7
    except ImportError:  # pragma: no cover - older python-hcl2 returns unquoted strings already
        return dict(hcl2.loads(text))
    options = SerializationOptions(strip_string_quotes=True, with_comments=False, explicit_blocks=False)
    return dict(hcl2.loads(text, serialization_options=options))


def _unquote(value: Any) -> Any:
    """Older python-hcl2 versions keep quotes around keys; normalise them away."""
    if isinstance(value, dict):
        return {str(k).strip('"'): _unquote(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unquote(v) for v in value]
    return value


@dataclass
class Config:
    files: dict[str, str]  # file name -> source text
    resources: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    data: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    terraform: list[dict[str, Any]] = field(default_factory=list)

    def resource(self, rtype: str, name: str) -> dict[str, Any]:
        return self.resources[(rtype, name)]

    def resources_of(self, rtype: str) -> dict[str, dict[str, Any]]:
        return {name: body for (t, name), body in self.resources.items() if t == rtype}

    def policy_document(self, name: str) -> dict[str, Any]:
        return self.data[("aws_iam_policy_document", name)]

    def expand(self, value: Any, depth: int = 0) -> str:
        """The expression text with every ``local.X`` replaced by the local's own text, recursively."""
        text = value if isinstance(value, str) else repr(value)
        if depth > 8:
            return text
        return _LOCAL.sub(
            lambda m: (
                self.expand(self.locals[m.group(1)], depth + 1) if m.group(1) in self.locals else m.group(0)
            ),
            text,
        )

    def refs(self, value: Any) -> set[str]:
        """Resources (``aws_x.name``, ``data.aws_x.name``) and variables (``var.x``) a value names."""
        return {r for r in _REF.findall(self.expand(value)) if not _NAMING.match(r)}


def block_items(blocks: list[dict[str, Any]]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for block in blocks:
        for rtype, named in block.items():
            for name, body in named.items():
                yield rtype, name, body


@functools.cache
def load() -> Config:
    files = {p.name: p.read_text() for p in sorted(TF_DIR.glob("*.tf"))}
    config = Config(files)
    for text in files.values():
        doc = _unquote(_loads(text))
        for rtype, name, body in block_items(doc.get("resource", [])):
            config.resources[(rtype, name)] = body
        for rtype, name, body in block_items(doc.get("data", [])):
            config.data[(rtype, name)] = body
        for block in doc.get("variable", []):
            config.variables.update(block)
        for block in doc.get("output", []):
            config.outputs.update(block)
        for block in doc.get("locals", []):
            config.locals.update(block)
        config.terraform.extend(doc.get("terraform", []))
    return config


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# --- IAM policy documents -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    document: str
    sid: str
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...]  # (test, variable, values)
    conditional: bool = False  # a dynamic block: present only for some inputs


_DOC_REF = re.compile(r"data\.aws_iam_policy_document\.([a-z0-9_]+)")


def _statement(document: str, body: dict[str, Any], conditional: bool, value_expr: str = "") -> Statement:
    def sub(text: Any) -> str:
        # In a dynamic block, `statement.value` is an element of its for_each expression.
        return str(text).replace("statement.value", value_expr) if value_expr else str(text)

    conditions = tuple(
        (str(c.get("test")), str(c.get("variable")), tuple(sub(v) for v in as_list(c.get("values"))))
        for c in as_list(body.get("condition"))
    )
    return Statement(
        document=document,
        sid=str(body.get("sid", "")),
        effect=str(body.get("effect", "Allow")),
        actions=tuple(str(a) for a in as_list(body.get("actions"))),
        resources=tuple(sub(r) for r in as_list(body.get("resources"))),
        conditions=conditions,
        conditional=conditional,
    )


def statements(config: Config, document: str, seen: frozenset[str] = frozenset()) -> list[Statement]:
    """A policy document's statements, with those of its source_policy_documents."""
    if document in seen:
        raise ValueError(f"policy document cycle at {document}")
    body = config.policy_document(document)
    out: list[Statement] = []
    sources = body.get("source_policy_documents")
    for source in _DOC_REF.findall(str(sources or "")):
        out += statements(config, source, seen | {document})
    out += [_statement(document, s, False) for s in as_list(body.get("statement"))]
    for dynamic in as_list(body.get("dynamic")):
        block = dynamic.get("statement")
        if block:
            for content in as_list(block.get("content")):
                out.append(_statement(document, content, True, str(block.get("for_each", ""))))
    return out
