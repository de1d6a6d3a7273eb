"""What a Lambda's code needs from its environment, derived statically (AST only, nothing is imported).

For one entry file (``lambda_function.py`` or a package's ``__main__``) this computes the *import closure*:
the entry plus every first-party module it imports, transitively, from the layer roots, including
function-local imports (only ``if TYPE_CHECKING:`` imports are left out, they never run). Over that
closure it finds:

- environment variables read: ``os.environ[...]``, ``os.environ.get/pop/setdefault``, ``os.getenv``,
  ``"X" in os.environ``, aliases of ``os.environ`` (``env = os.environ if env is None else env``) and
  helpers that pass a parameter through (``def _float(name): return float(os.environ.get(name, ...))``
  called as ``_float("X")``). f-string names become patterns; anything else is reported as *dynamic*;
- AWS calls: client expressions (``client("sqs")``, ``boto3.client("s3")``, ``_client("dynamodb")``, a
  variable or ``self`` attribute holding one, a function returning one, ``resource("dynamodb").Table(..)``)
  and the operations used on them (a call or a bound-method reference, ``get_paginator("op")``). Each call
  site carries the environment variables its arguments (or else its enclosing function) read, which the
  Terraform checks turn into the resources the call targets.

The operation names come from botocore's service models, so only real API operations count.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Boto3 method -> IAM action where the IAM name is not the API operation name. Default: the service's
# IAM prefix + the operation name (GetSecretValue, SendMessage, RunTask...).
_IAM_PREFIX = {"apigatewaymanagementapi": "execute-api", "stepfunctions": "states"}
_IAM_OVERRIDES: dict[tuple[str, str], tuple[str, ...]] = {
    # @connections calls are all authorized by one action.
    ("apigatewaymanagementapi", "post_to_connection"): ("execute-api:ManageConnections",),
    ("apigatewaymanagementapi", "get_connection"): ("execute-api:ManageConnections",),
    ("apigatewaymanagementapi", "delete_connection"): ("execute-api:ManageConnections",),
    # S3's IAM actions differ from its operation names.
    ("s3", "head_bucket"): ("s3:ListBucket",),
    ("s3", "list_objects"): ("s3:ListBucket",),
    ("s3", "list_objects_v2"): ("s3:ListBucket",),
    ("s3", "list_object_versions"): ("s3:ListBucketVersions",),
    ("s3", "head_object"): ("s3:GetObject",),
    ("s3", "get_object"): ("s3:GetObject",),
    ("s3", "delete_objects"): ("s3:DeleteObject", "s3:DeleteObjectVersion"),
    ("s3", "delete_object"): ("s3:DeleteObject", "s3:DeleteObjectVersion"),
    ("s3", "get_bucket_versioning"): ("s3:GetBucketVersioning",),
    ("s3", "generate_presigned_url"): ("s3:GetObject",),
    ("s3", "copy_object"): ("s3:GetObject", "s3:PutObject"),
    ("s3", "upload_file"): ("s3:PutObject",),
    ("s3", "upload_fileobj"): ("s3:PutObject",),
    ("s3", "download_file"): ("s3:GetObject",),
    ("s3", "download_fileobj"): ("s3:GetObject",),
    # Batch variants are authorized by the single-message actions.
    ("sqs", "send_message_batch"): ("sqs:SendMessage",),
    ("sqs", "delete_message_batch"): ("sqs:DeleteMessage",),
    ("sqs", "change_message_visibility_batch"): ("sqs:ChangeMessageVisibility",),
}
# Client attributes that are not API calls.
_NOT_OPERATIONS = {"exceptions", "meta", "close", "can_paginate", "get_waiter", "waiter_names"}
# DynamoDB Table resource methods -> operations.
_TABLE_METHODS = {
    "get_item": "GetItem",
    "put_item": "PutItem",
    "update_item": "UpdateItem",
    "delete_item": "DeleteItem",
    "query": "Query",
    "scan": "Scan",
    "batch_writer": "BatchWriteItem",
}
# Library classes/functions that call AWS on the code's behalf: name -> (service, operations).
_LIBRARY_CALLS: dict[str, tuple[str, tuple[str, ...]]] = {
    # Powertools idempotency keeps its records in DynamoDB.
    "DynamoDBPersistenceLayer": ("dynamodb", ("GetItem", "PutItem", "UpdateItem", "DeleteItem")),
    # Powertools parameters utility.
    "get_secret": ("secretsmanager", ("GetSecretValue",)),
}
_ENV_METHODS = {"get", "pop", "setdefault"}
# Create operations that also need TagResource when the call passes Tags.
_TAG_ON_CREATE = {"secretsmanager": ("CreateSecret",)}


@dataclass(frozen=True, order=True)
class EnvRead:
    module: str
    line: int
    name: str | None  # a literal variable name
    pattern: str | None = None  # a regex for an f-string name (VOICE_{x} -> VOICE_[A-Za-z0-9_]+)
    dynamic: str | None = None  # source text of a name that is neither (reported, must be explained)
    # The code supplies a real fallback: ``get("X", "3")``, ``get("X") or "local"``, ``_f(env, "X", 6.0)``.
    # An empty default (``get("X", "")``) does not count: such a value is needed to work.
    has_default: bool = False
    owner: str = ""  # "module:function" that reads it ("" = module level, runs at import)


@dataclass(frozen=True, order=True)
class AwsCall:
    module: str
    line: int
    service: str  # boto3 service name
    operation: str  # API operation (botocore name), e.g. SendMessage
    env: frozenset[str] = frozenset()  # environment variables the call's target comes from
    owner: str = ""  # "module:function" that makes the call ("" = module level)

    @property
    def iam_actions(self) -> tuple[str, ...]:
        return iam_actions(self.service, self.operation)


@dataclass
class Scan:
    modules: dict[str, Path]
    env_reads: list[EnvRead] = field(default_factory=list)
    aws_calls: list[AwsCall] = field(default_factory=list)  # every call site in the closure
    reachable: set[str] = field(default_factory=set)  # "module:function" that can run (see _Reachability)

    def runs(self, owner: str) -> bool:
        return not owner or owner in self.reachable

    @property
    def live_calls(self) -> list[AwsCall]:
        """Call sites in code that can run for this entry point."""
        return [c for c in self.aws_calls if self.runs(c.owner)]

    @property
    def env_names(self) -> set[str]:
        return {r.name for r in self.env_reads if r.name}

    @property
    def required_env(self) -> set[str]:
        """Names read without a real default by code that can run (a default elsewhere does not help)."""
        return {r.name for r in self.env_reads if r.name and not r.has_default and self.runs(r.owner)}

    @property
    def env_patterns(self) -> set[str]:
        return {r.pattern for r in self.env_reads if r.pattern}

    @property
    def dynamic_env(self) -> set[tuple[str, str]]:
        return {(r.module, r.dynamic) for r in self.env_reads if r.dynamic}

    def reads(self, name: str) -> bool:
        """Whether the code reads ``name``, literally or through an f-string pattern."""
        return name in self.env_names or any(re.fullmatch(p, name) for p in self.env_patterns)


# --- botocore models ----------------------------------------------------------------------------------------


@functools.cache
def _session() -> Any:
    import botocore.session

    return botocore.session.get_session()


@functools.cache
def known_services() -> frozenset[str]:
    return frozenset(_session().get_available_services())


@functools.cache
def operations(service: str) -> dict[str, str]:
    """boto3 method name -> API operation name for ``service`` (``list_objects_v2`` -> ``ListObjectsV2``)."""
    from botocore import xform_name

    model = _session().get_service_model(service)
    ops = {xform_name(op): op for op in model.operation_names}
    if service == "s3":  # client-side helpers injected by boto3
        ops |= {n: n for n in ("upload_file", "upload_fileobj", "download_file", "download_fileobj")}
        ops["generate_presigned_url"] = "generate_presigned_url"
    return ops


def iam_actions(service: str, operation: str) -> tuple[str, ...]:
    method = next((m for m, op in operations(service).items() if op == operation), operation)
    override = _IAM_OVERRIDES.get((service, method))
    if override:
        return override
    return (f"{_IAM_PREFIX.get(service, service)}:{operation}",)


# --- import closure -----------------------------------------------------------------------------------------


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """ids of nodes inside ``if TYPE_CHECKING:`` blocks (imports there never execute)."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
            if name == "TYPE_CHECKING":
                for child in node.body:
                    skipped.update(id(n) for n in ast.walk(child))
    return skipped


@dataclass(frozen=True)
class _Import:
    module: str  # `import a.b` -> "a.b"; `from .x import y` -> "x"
    level: int  # relative import level (0 = absolute)
    names: tuple[tuple[str, str | None], ...]  # (name, asname); empty for `import a.b`
    is_from: bool


def _imports(tree: ast.Module) -> list[_Import]:
    """Every import statement that executes (anywhere in the module, ``if TYPE_CHECKING:`` excluded)."""
    skipped = _type_checking_nodes(tree)
    out: list[_Import] = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            out += [_Import(a.name, 0, ((a.name, a.asname),), False) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            out.append(
                _Import(node.module or "", node.level, tuple((a.name, a.asname) for a in node.names), True)
            )
    return out


def _absolute(imp: _Import, package: str) -> str:
    if not imp.level:
        return imp.module
    anchor = package.split(".")
    anchor = anchor[: len(anchor) - (imp.level - 1)] if imp.level > 1 else anchor
    return ".".join([*anchor, imp.module] if imp.module else anchor)


def _resolve(name: str, roots: Iterable[Path]) -> Path | None:
    return _resolve_cached(name, tuple(roots))


@functools.cache
def _resolve_cached(name: str, roots: tuple[Path, ...]) -> Path | None:
    parts = name.split(".")
    for root in roots:
        base = root.joinpath(*parts)
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
    return None


def _imported_names(imports: list[_Import], module: str, is_package: bool) -> Iterator[str]:
    package = module if is_package else module.rpartition(".")[0]
    for imp in imports:
        if not imp.is_from:
            yield imp.module
            continue
        base = _absolute(imp, package)
        yield base
        for name, _ in imp.names:
            yield f"{base}.{name}"  # `from pkg import module` imports a module


def import_closure(
    entry: Path, roots: Iterable[Path], entry_name: str = "lambda_function"
) -> dict[str, Path]:
    """module name -> file for ``entry`` and every first-party module it imports, transitively."""
    roots = [entry.parent, *roots]
    found: dict[str, Path] = {entry_name: entry}
    queue = [(entry_name, entry)]
    while queue:
        name, path = queue.pop()
        for imported in _imported_names(_info(path).imports, name, path.name == "__init__.py"):
            # A package's __init__ runs before any of its submodules.
            parts = imported.split(".")
            for i in range(1, len(parts) + 1):
                mod = ".".join(parts[:i])
                if mod in found:
                    continue
                target = _resolve(mod, roots)
                if target is not None:
                    found[mod] = target
                    queue.append((mod, target))
    return dict(sorted(found.items()))


# --- per-module structure (parsed once per file version) ----------------------------------------------------

Scope = ast.FunctionDef | ast.AsyncFunctionDef | ast.Module
ClientKind = tuple[str, str]  # ("client" | "resource" | "table", boto3 service name)


@dataclass
class _Scope:
    node: Scope
    name: str | None  # function name; None for module level
    cls: str | None  # enclosing class, for ``self`` attributes
    nodes: list[ast.AST]  # own nodes, not those of nested functions/classes
    assigns: dict[str, list[ast.expr]]
    params: list[str]
    owner: str  # the outermost function or method ("func", "Class.method"); "" at module level


@dataclass
class _ModuleInfo:
    source: str
    tree: ast.Module
    scopes: list[_Scope]
    parents: dict[int, ast.AST]
    imports: list[_Import]
    is_package: bool


def _own_nodes(scope: ast.AST) -> list[ast.AST]:
    out: list[ast.AST] = []
    stack = list(ast.iter_child_nodes(scope))
    while stack:
        node = stack.pop()
        out.append(node)
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            stack.extend(ast.iter_child_nodes(node))
    return out


def _assignments(nodes: list[ast.AST]) -> dict[str, list[ast.expr]]:
    out: dict[str, list[ast.expr]] = {}
    for node in nodes:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out.setdefault(target.id, []).append(node.value)
                elif (
                    isinstance(target, ast.Tuple)
                    and isinstance(node.value, ast.Tuple)
                    and len(target.elts) == len(node.value.elts)
                ):  # table, ddb = _rate_table(), client("dynamodb")
                    for name, value in zip(target.elts, node.value.elts, strict=True):
                        if isinstance(name, ast.Name):
                            out.setdefault(name.id, []).append(value)
        elif isinstance(node, ast.AnnAssign | ast.AugAssign) and isinstance(node.target, ast.Name):
            if node.value is not None:
                out.setdefault(node.target.id, []).append(node.value)
        elif isinstance(node, ast.NamedExpr):
            out.setdefault(node.target.id, []).append(node.value)
    return out


def _params(node: Scope) -> list[str]:
    if isinstance(node, ast.Module):
        return []
    args = node.args
    return [a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]]


def _make_scope(node: Scope, cls: str | None, owner: str) -> _Scope:
    nodes = _own_nodes(node)
    name = None if isinstance(node, ast.Module) else node.name
    return _Scope(node, name, cls, nodes, _assignments(nodes), _params(node), owner)


@functools.lru_cache(maxsize=512)
def _module_info(path: Path, mtime_ns: int) -> _ModuleInfo:
    source = path.read_text()
    tree = ast.parse(source, filename=str(path))
    scopes = [_make_scope(tree, None, "")]

    def walk(node: ast.AST, cls: str | None, owner: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                own = owner or (f"{cls}.{child.name}" if cls else child.name)
                scopes.append(_make_scope(child, cls, own))
                walk(child, cls, own)
            elif isinstance(child, ast.ClassDef):
                walk(child, child.name, owner)
            else:
                walk(child, cls, owner)

    walk(tree, None, "")
    parents = {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    # Remember which call invokes a ``client.op`` attribute: the call's arguments name its target.
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            node.func._aws_call = node  # type: ignore[attr-defined]
    return _ModuleInfo(source, tree, scopes, parents, _imports(tree), path.name == "__init__.py")


def _info(path: Path) -> _ModuleInfo:
    return _module_info(path, path.stat().st_mtime_ns)


# --- expressions --------------------------------------------------------------------------------------------


def _call_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _is_environ(node: ast.expr, aliases: set[str]) -> bool:
    """``os.environ`` itself or a name bound to it."""
    if isinstance(node, ast.Attribute) and node.attr == "environ":
        return isinstance(node.value, ast.Name) and node.value.id == "os"
    return isinstance(node, ast.Name) and node.id in aliases


def _environ_like(node: ast.expr, aliases: set[str]) -> bool:
    """An expression whose value is the environment mapping (or a copy of it)."""
    if _is_environ(node, aliases):
        return True
    if isinstance(node, ast.IfExp):
        return _environ_like(node.body, aliases) or _environ_like(node.orelse, aliases)
    if isinstance(node, ast.BoolOp):
        return any(_environ_like(v, aliases) for v in node.values)
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Name) and node.func.id == "dict" and node.args:
            return _environ_like(node.args[0], aliases)
        if isinstance(node.func, ast.Attribute) and node.func.attr == "copy":
            return _environ_like(node.func.value, aliases)
    return False


def _fstring_pattern(node: ast.JoinedStr) -> str:
    return "".join(
        re.escape(str(part.value)) if isinstance(part, ast.Constant) else "[A-Za-z0-9_]+"
        for part in node.values
    )


def _literal(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _real_default(node: ast.expr | None) -> bool:
    """A fallback value that makes the variable optional (not None, not an empty string)."""
    if node is None:
        return False
    if isinstance(node, ast.Constant):
        return node.value not in (None, "")
    return True


def _default_of_read(node: ast.AST, info: _ModuleInfo) -> bool:
    """Whether an environment read at ``node`` comes with a real default."""
    if isinstance(node, ast.Compare):
        return True  # "X" in os.environ: a presence check, the code copes with absence
    if isinstance(node, ast.Call) and len(node.args) >= 2 and _real_default(node.args[1]):
        return True  # environ.get("X", default) / getenv("X", default)
    parent = info.parents.get(id(node))
    if isinstance(parent, ast.BoolOp) and isinstance(parent.op, ast.Or):
        # get("X") or default / model or get("X") or DEFAULT: a real value after the read.
        later = parent.values[[id(v) for v in parent.values].index(id(node)) + 1 :]
        if any(_real_default(v) for v in later):
            return True
    # A truth test (`bool(get("X"))`, `if get("X"):`, `not get("X")`): the code handles absence.
    child: ast.AST = node
    while isinstance(parent, ast.BoolOp):
        child, parent = parent, info.parents.get(id(parent))
    if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name) and parent.func.id == "bool":
        return True
    if isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not):
        return True
    return isinstance(parent, ast.If | ast.IfExp | ast.While) and parent.test is child


# --- the analysis -------------------------------------------------------------------------------------------


@dataclass
class _Mod:
    name: str
    info: _ModuleInfo


def _qual(mod: _Mod, scope: _Scope) -> str:
    return f"{mod.name}:{scope.owner}" if scope.owner else ""


class _Analyzer:
    def __init__(self, modules: dict[str, Path]) -> None:
        self.modules = [_Mod(name, _info(path)) for name, path in modules.items()]
        # function name -> parameter indexes passed straight into an environment read
        self.env_helpers: dict[str, set[int]] = {}
        # function name -> literal environment variables it reads itself
        self.function_env: dict[str, set[str]] = {}
        # id(AST node) -> literal environment variables that node reads
        self.node_env: dict[int, set[str]] = {}
        # function name -> functions it calls by bare name
        self.callees: dict[str, set[str]] = {}
        # function name -> the client/resource kind it returns
        self.factories: dict[str, ClientKind] = {}
        # (module, class) -> self attribute -> the client/resource kind it holds
        self.class_attrs: dict[tuple[str, str], dict[str, ClientKind]] = {}
        self.methods: set[str] = set()
        # env helpers that supply a default themselves
        self.helper_defaults: set[str] = set()
        self._function_env_cache: dict[str, frozenset[str]] = {}
        for mod in self.modules:
            for scope in mod.info.scopes:
                if scope.name is None:
                    continue
                if scope.cls and scope.params[:1] in (["self"], ["cls"]):
                    self.methods.add(scope.name)
                for node in scope.nodes:
                    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                        self.callees.setdefault(scope.name, set()).add(node.func.id)

    # -- environment --------------------------------------------------------------------------------------

    @staticmethod
    def _aliases(scope: _Scope, inherited: set[str]) -> set[str]:
        # A parameter called ``env``/``environ`` is the environment passed down (``_float(env, "X", 1.0)``
        # with ``env = os.environ if env is None else env`` at the caller): treated as an alias.
        aliases = set(inherited) | {p for p in scope.params if p in ("env", "environ")}
        changed = True
        while changed:
            changed = False
            for name, values in scope.assigns.items():
                if name not in aliases and any(_environ_like(v, aliases) for v in values):
                    aliases.add(name)
                    changed = True
        return aliases

    @staticmethod
    def _env_keys(scope: _Scope, aliases: set[str]) -> Iterator[tuple[ast.AST, ast.expr]]:
        """(node, key expression) of every environment read in a scope."""
        for node in scope.nodes:
            if isinstance(node, ast.Subscript) and _is_environ(node.value, aliases):
                yield node, node.slice
            elif isinstance(node, ast.Call) and node.args:
                func = node.func
                if (
                    isinstance(func, ast.Attribute)
                    and func.attr in _ENV_METHODS
                    and _is_environ(func.value, aliases)
                ) or _call_name(func) == "getenv":
                    yield node, node.args[0]
            elif (
                isinstance(node, ast.Compare)
                and len(node.ops) == 1
                and isinstance(node.ops[0], ast.In | ast.NotIn)
                and _is_environ(node.comparators[0], aliases)
            ):
                yield node, node.left

    def _classify(self, key: ast.expr, scope: _Scope) -> list[tuple[str | None, str | None, int | None]]:
        """(literal name, pattern, helper parameter index) per possible key value; all None = dynamic."""
        if _literal(key) is not None:
            return [(_literal(key), None, None)]
        if isinstance(key, ast.JoinedStr):
            return [(None, _fstring_pattern(key), None)]
        if isinstance(key, ast.Name):
            if key.id in scope.params and key.id not in scope.assigns:
                return [(None, None, scope.params.index(key.id))]
            values = scope.assigns.get(key.id, [])
            if values and all(_literal(v) is not None or isinstance(v, ast.JoinedStr) for v in values):
                return [r for v in values for r in self._classify(v, scope)]
        return [(None, None, None)]

    def scan_env(self) -> list[EnvRead]:
        reads: list[EnvRead] = []
        for mod in self.modules:
            imported = {
                a.asname or a.name
                for node in mod.info.tree.body
                if isinstance(node, ast.ImportFrom) and node.module == "os"
                for a in node.names
                if a.name == "environ"
            }
            module_aliases = self._aliases(mod.info.scopes[0], imported)
            for scope in mod.info.scopes:
                aliases = module_aliases if scope.name is None else self._aliases(scope, module_aliases)
                found = list(self._env_keys(scope, aliases))
                # `if "X" in env: ... env["X"]`: a read guarded by a presence check is optional.
                present = {_literal(k) for n, k in found if isinstance(n, ast.Compare)} - {None}
                for node, key in found:
                    line = getattr(node, "lineno", 0)
                    for name, pattern, param in self._classify(key, scope):
                        if param is not None and scope.name:
                            self.env_helpers.setdefault(scope.name, set()).add(param)
                            if _default_of_read(node, mod.info):
                                self.helper_defaults.add(scope.name)
                        elif name or pattern:
                            default = _default_of_read(node, mod.info) or name in present
                            reads.append(
                                EnvRead(
                                    mod.name,
                                    line,
                                    name,
                                    pattern,
                                    has_default=default,
                                    owner=_qual(mod, scope),
                                )
                            )
                            if name:
                                self._record(node, scope, name)
                        else:
                            text = ast.get_source_segment(mod.info.source, key) or ast.dump(key)
                            reads.append(EnvRead(mod.name, line, None, None, text, owner=_qual(mod, scope)))
        # Helpers called with a literal: ``_setting("CONNECTIONS_TABLE")`` reads CONNECTIONS_TABLE.
        for mod in self.modules:
            for scope in mod.info.scopes:
                for node in scope.nodes:
                    if not isinstance(node, ast.Call):
                        continue
                    helper = _call_name(node.func)
                    if helper not in self.env_helpers:
                        continue
                    # Called through an attribute, a method's ``self`` is not among the arguments.
                    shift = 1 if isinstance(node.func, ast.Attribute) and helper in self.methods else 0
                    for index in sorted(self.env_helpers[helper]):
                        position = index - shift
                        arg = node.args[position] if 0 <= position < len(node.args) else None
                        # A default: the helper's own read has one, or the call passes one after the name.
                        extra = [
                            *node.args[position + 1 :],
                            *(k.value for k in node.keywords if k.arg == "default"),
                        ]
                        default = helper in self.helper_defaults or any(_real_default(a) for a in extra)
                        default = default or _default_of_read(node, mod.info)
                        if _literal(arg) is not None:
                            reads.append(
                                EnvRead(
                                    mod.name,
                                    node.lineno,
                                    _literal(arg),
                                    has_default=default,
                                    owner=_qual(mod, scope),
                                )
                            )
                            self._record(node, scope, str(_literal(arg)))
                        elif isinstance(arg, ast.JoinedStr):
                            pattern = _fstring_pattern(arg)
                            reads.append(
                                EnvRead(
                                    mod.name,
                                    node.lineno,
                                    None,
                                    pattern,
                                    has_default=default,
                                    owner=_qual(mod, scope),
                                )
                            )
        return sorted(set(reads))

    def _record(self, node: ast.AST, scope: _Scope, name: str) -> None:
        self.node_env.setdefault(id(node), set()).add(name)
        if scope.name:
            self.function_env.setdefault(scope.name, set()).add(name)

    def _function_env(self, fname: str) -> frozenset[str]:
        """What a function reads itself and through the functions it calls by name, transitively.

        Client factories (``client(...)``) are not followed: their settings (timeouts) are no target.
        """
        if fname not in self._function_env_cache:
            seen: set[str] = set()
            out: set[str] = set()
            stack = [fname]
            while stack:
                name = stack.pop()
                if name in seen or name.endswith("client"):
                    continue
                seen.add(name)
                out |= self.function_env.get(name, set())
                stack.extend(self.callees.get(name, set()))
            self._function_env_cache[fname] = frozenset(out)
        return self._function_env_cache[fname]

    def _env_of(self, expr: ast.AST, assigns: dict[str, list[ast.expr]], depth: int = 0) -> set[str]:
        """Literal environment variables an expression reads: itself, via local names or called functions."""
        out: set[str] = set()
        if depth > 5:
            return out
        for node in ast.walk(expr):
            out |= self.node_env.get(id(node), set())
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                out |= self._function_env(node.func.id)
            elif isinstance(node, ast.Name) and node.id in assigns:
                rest = {k: v for k, v in assigns.items() if k != node.id}
                for value in assigns[node.id]:
                    out |= self._env_of(value, rest, depth + 1)
        return out

    # -- AWS clients -----------------------------------------------------------------------------------------

    def _client_of(
        self, expr: ast.expr, local: dict[str, ClientKind], attrs: dict[str, ClientKind]
    ) -> ClientKind | None:
        """The kind of client ``expr`` evaluates to, if any."""
        if isinstance(expr, ast.Name):
            return local.get(expr.id)
        if isinstance(expr, ast.Attribute):
            if isinstance(expr.value, ast.Name) and expr.value.id in ("self", "cls"):
                return attrs.get(expr.attr)
            return None
        if not isinstance(expr, ast.Call):
            return None
        name = _call_name(expr.func)
        if name is None:
            return None
        first = (
            expr.args[0]
            if expr.args
            else next((k.value for k in expr.keywords if k.arg == "service_name"), None)
        )
        service = _literal(first)
        if service in known_services():
            if name.endswith("client"):
                return ("client", str(service))
            if name.endswith("resource"):
                return ("resource", str(service))
        if (
            name == "Table"
            and isinstance(expr.func, ast.Attribute)
            and self._client_of(expr.func.value, local, attrs) == ("resource", "dynamodb")
        ):
            return ("table", "dynamodb")
        func = expr.func
        if isinstance(func, ast.Name) or (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in ("self", "cls")
        ):
            return self.factories.get(name)
        return None

    def _locals(self, scope: _Scope, attrs: dict[str, ClientKind]) -> dict[str, ClientKind]:
        local: dict[str, ClientKind] = {}
        changed = True
        while changed:
            changed = False
            for name, values in scope.assigns.items():
                if name in local:
                    continue
                found = next((k for v in values if (k := self._client_of(v, local, attrs))), None)
                if found:
                    local[name] = found
                    changed = True
        return local

    def _attrs(self, mod: _Mod, scope: _Scope) -> dict[str, ClientKind]:
        return self.class_attrs.setdefault((mod.name, scope.cls), {}) if scope.cls else {}

    def _resolve_factories(self) -> None:
        """Fixed point: functions returning clients, and ``self`` attributes holding them."""
        changed = True
        while changed:
            changed = False
            for mod in self.modules:
                for scope in mod.info.scopes:
                    attrs = self._attrs(mod, scope)
                    local = self._locals(scope, attrs)
                    for node in scope.nodes:
                        if isinstance(node, ast.Assign) and scope.cls:
                            found = self._client_of(node.value, local, attrs)
                            for target in node.targets:
                                if (
                                    found
                                    and isinstance(target, ast.Attribute)
                                    and isinstance(target.value, ast.Name)
                                    and target.value.id == "self"
                                    and target.attr not in attrs
                                ):
                                    attrs[target.attr] = found
                                    changed = True
                        elif isinstance(node, ast.Return) and node.value is not None and scope.name:
                            found = self._client_of(node.value, local, attrs)
                            if found and scope.name not in self.factories:
                                self.factories[scope.name] = found
                                changed = True

    def scan_calls(self) -> list[AwsCall]:
        self._resolve_factories()
        calls: set[AwsCall] = set()
        for mod in self.modules:
            for scope in mod.info.scopes:
                attrs = self._attrs(mod, scope)
                local = self._locals(scope, attrs)
                fallback = self._function_env(scope.name) if scope.name else frozenset()
                for node in scope.nodes:
                    for service, op, call in self._operations_at(node, local, attrs):
                        env: set[str] = set()
                        if call is not None:
                            for arg in [*call.args, *(k.value for k in call.keywords)]:
                                env |= self._env_of(arg, scope.assigns)
                        if isinstance(node, ast.Attribute):  # Table(os.environ["X"]).put_item(...)
                            env |= self._env_of(node.value, scope.assigns)
                        line = getattr(node, "lineno", 0)
                        calls.add(
                            AwsCall(
                                mod.name, line, service, op, frozenset(env or fallback), _qual(mod, scope)
                            )
                        )
        return sorted(calls)

    def _operations_at(
        self, node: ast.AST, local: dict[str, ClientKind], attrs: dict[str, ClientKind]
    ) -> Iterator[tuple[str, str, ast.Call | None]]:
        """(service, operation, the invoking call if any) for an AWS use at ``node``."""
        if isinstance(node, ast.Call):
            name = _call_name(node.func)
            if name in _LIBRARY_CALLS:
                service, ops = _LIBRARY_CALLS[name]
                for op in ops:
                    yield service, op, node
            if isinstance(node.func, ast.Attribute) and node.func.attr == "get_paginator" and node.args:
                owner = self._client_of(node.func.value, local, attrs)
                if (
                    owner
                    and owner[0] == "client"
                    and (paginated := operations(owner[1]).get(_literal(node.args[0]) or ""))
                ):
                    yield owner[1], paginated, None
        elif isinstance(node, ast.Attribute) and node.attr not in _NOT_OPERATIONS:
            owner = self._client_of(node.value, local, attrs)
            if owner is None:
                return
            kind, service = owner
            call = getattr(node, "_aws_call", None)
            if kind == "client" and (operation := operations(service).get(node.attr)):
                yield service, operation, call
                # Tags on create are authorized separately (secretsmanager:TagResource).
                if (
                    operation in _TAG_ON_CREATE.get(service, ())
                    and call
                    and any(k.arg == "Tags" for k in call.keywords)
                ):
                    yield service, "TagResource", call
            elif kind == "table" and node.attr in _TABLE_METHODS:
                yield service, _TABLE_METHODS[node.attr], call


# --- reachability -------------------------------------------------------------------------------------------
#
# Which functions of the closure can run for this Lambda. Roots: module-level code (it runs at import),
# decorated functions (registered: routes, handlers) and the entry module's functions. Edges: every name
# a function's body mentions, resolved through the module's definitions and imports (``service.create``
# with ``from voice_common import credentials as service`` is credentials.create); a method reached
# through an object of unknown type (``obj.run()``) counts every method of that name in the closure.
# References count as calls (callbacks, dispatch tables). This only prunes what no path names at all,
# e.g. the secret-writing functions of voice_common.credentials for a Lambda that merely reads keys.


class _Namespace:
    def __init__(self, name: str, info: _ModuleInfo, modules: set[str]) -> None:
        self.name = name
        self.functions: set[str] = set()
        self.classes: dict[str, set[str]] = {}
        self.imports: dict[str, tuple[str, str | None]] = {}  # alias -> (module, attribute or None)
        for node in info.tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self.functions.add(node.name)
            elif isinstance(node, ast.ClassDef):
                self.classes[node.name] = {
                    n.name for n in node.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
                }
        package = name if info.is_package else name.rpartition(".")[0]
        for imp in info.imports:
            if not imp.is_from:
                name_, asname = imp.names[0]
                alias = asname or name_.split(".")[0]
                self.imports[alias] = (name_ if asname else alias, None)
                continue
            base = _absolute(imp, package)
            for attr, asname in imp.names:
                local = asname or attr
                if f"{base}.{attr}" in modules:
                    self.imports[local] = (f"{base}.{attr}", None)
                else:
                    self.imports[local] = (base, attr)


class _Reachability:
    def __init__(self, analyzer: _Analyzer, entry: str) -> None:
        names = {m.name for m in analyzer.modules}
        self.modules = {m.name: m for m in analyzer.modules}
        self.ns = {m.name: _Namespace(m.name, m.info, names) for m in analyzer.modules}
        self.entry = entry
        # every method name -> its qualified names (for calls on objects of unknown type)
        self.methods: dict[str, set[str]] = {}
        for mod, ns in self.ns.items():
            for cls, methods in ns.classes.items():
                for method in methods:
                    self.methods.setdefault(method, set()).add(f"{mod}:{cls}.{method}")

    def _symbol(self, module: str, attr: str, depth: int = 0) -> set[str]:
        """Qualified functions a module attribute names (a re-export is followed)."""
        ns = self.ns.get(module)
        if ns is None or depth > 5:
            return set()
        if attr in ns.functions:
            return {f"{module}:{attr}"}
        if attr in ns.classes:
            return {f"{module}:{attr}.{m}" for m in ns.classes[attr]}
        if attr in ns.imports:
            target, name = ns.imports[attr]
            return self._symbol(target, name, depth + 1) if name else set()
        return set()

    def _chain(self, node: ast.Attribute) -> list[str] | None:
        parts: list[str] = []
        current: ast.expr = node
        while isinstance(current, ast.Attribute):
            parts.append(current.attr)
            current = current.value
        if not isinstance(current, ast.Name):
            return None
        parts.append(current.id)
        return parts[::-1]

    def _edges(self, module: str, cls: str | None, body: ast.AST) -> set[str]:
        ns = self.ns[module]
        out: set[str] = set()
        for node in ast.walk(body):
            if isinstance(node, ast.Name):
                if node.id in ns.functions or node.id in ns.classes:
                    out |= self._symbol(module, node.id)
                elif node.id in ns.imports:
                    target, attr = ns.imports[node.id]
                    if attr:
                        out |= self._symbol(target, attr)
            elif isinstance(node, ast.Attribute):
                chain = self._chain(node)
                if chain and chain[0] in ("self", "cls") and cls and len(chain) > 1:
                    method = chain[1]
                    if method in ns.classes.get(cls, set()):
                        out.add(f"{module}:{cls}.{method}")
                        continue
                if chain and chain[0] in ns.imports and ns.imports[chain[0]][1] is None:
                    target = ns.imports[chain[0]][0]
                    for part in chain[1:]:  # walk submodules, then the attribute
                        if f"{target}.{part}" in self.ns:
                            target = f"{target}.{part}"
                            continue
                        out |= self._symbol(target, part)
                        break
                    continue
                out |= self.methods.get(node.attr, set())
        return out

    def reachable(self) -> set[str]:
        roots: set[str] = set()
        bodies: dict[str, tuple[str, str | None, ast.AST]] = {}
        for module, mod in self.modules.items():
            top = [n for n in mod.info.tree.body if not isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
            for node in top:
                if isinstance(node, ast.ClassDef):  # class bodies run at import; method bodies do not
                    for item in node.body:
                        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                            qual = f"{module}:{node.name}.{item.name}"
                            bodies[qual] = (module, node.name, item)
                            if item.decorator_list:
                                roots.add(qual)
                            for decorator in item.decorator_list:
                                roots |= self._edges(module, node.name, decorator)
                        else:
                            roots |= self._edges(module, node.name, item)
                else:
                    roots |= self._edges(module, None, node)
            for node in mod.info.tree.body:
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    qual = f"{module}:{node.name}"
                    bodies[qual] = (module, None, node)
                    if node.decorator_list or module == self.entry:
                        roots.add(qual)
        seen: set[str] = set()
        stack = list(roots)
        while stack:
            qual = stack.pop()
            if qual in seen or qual not in bodies:
                continue
            seen.add(qual)
            module, cls, body = bodies[qual]
            stack.extend(self._edges(module, cls, body) - seen)
        return seen


def scan(entry: Path, roots: Iterable[Path], entry_name: str = "lambda_function") -> Scan:
    """Environment reads and AWS calls of ``entry``'s import closure, with the functions reachable from it."""
    modules = import_closure(entry, roots, entry_name)
    analyzer = _Analyzer(modules)
    env_reads = analyzer.scan_env()
    calls = analyzer.scan_calls()
    reachable = _Reachability(analyzer, entry_name).reachable()
    return Scan(modules=modules, env_reads=env_reads, aws_calls=calls, reachable=reachable)
