"""The ``reason`` words the server can raise, found in its source with ``ast``.

For each handler (a function decorated ``@router.procedure(ns.proc)``), every
``RpcError(CODE, ..., reason=...)`` it raises itself or through the helpers it
calls (followed by name, transitively, outside the handler modules), and the
reasons of ``_unauthorized(message, reason)`` and LiveKit's ``_Mapping`` rows.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

__all__ = ["Found", "handler_reasons", "raised_anywhere"]

ROOT = Path(__file__).resolve().parents[2]
Found = set[tuple[str, str]]  # (code, reason)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _strings(node: ast.AST | None) -> Iterator[str]:
    if node is None:
        return
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            yield sub.value


def _raises(func: ast.AST) -> Found:
    """(code, reason) pairs of the RpcError calls written in ``func``."""
    assigned: dict[str, set[str]] = defaultdict(set)
    for node in ast.walk(func):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigned[target.id].update(_strings(node.value))
    found: Found = set()
    for node in ast.walk(func):
        if not isinstance(node, ast.Call):
            continue
        name = _callee(node)
        constant = bool(node.args) and isinstance(node.args[0], ast.Constant)
        if name in ("RpcError", "__init__") and constant:
            code = str(node.args[0].value)  # type: ignore[attr-defined]
            for keyword in node.keywords:
                if keyword.arg != "reason":
                    continue
                value = keyword.value
                if isinstance(value, ast.Name):
                    found.update((code, r) for r in assigned[value.id])
                else:
                    found.update((code, r) for r in _strings(value))
        elif name == "_unauthorized" and len(node.args) == 2:
            found.update(("UNAUTHORIZED", r) for r in _strings(node.args[1]))
        elif name == "_Mapping" and len(node.args) >= 2:
            first, second = node.args[0], node.args[1]
            if isinstance(first, ast.Constant) and isinstance(second, ast.Constant):
                found.add((str(first.value), str(second.value)))
    return found


def _callee(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted((ROOT / "server").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, ast.parse(path.read_text(encoding="utf-8"))


def _imports(module: str, tree: ast.Module) -> dict[str, str]:
    """Local name -> what it stands for: ``pkg.mod`` (a module) or ``pkg.mod:func``."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}:{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name] = alias.name
    return names


def raised_anywhere() -> Found:
    """Every (code, reason) written anywhere in ``server/``."""
    found: Found = set()
    for _path, tree in _modules():
        found |= _raises(tree)
    return found


def handler_reasons() -> dict[tuple[str, str], Found]:
    """(namespace module, contract attribute) of each handler -> what it may raise.

    Calls are followed where they resolve: a function of the same module, one
    imported by name, or ``module.function`` of an imported module of ours.
    """
    functions: dict[str, ast.AST] = {}  # "pkg.mod:func" -> its definition
    homes: dict[int, tuple[str, dict[str, str]]] = {}  # id(func) -> (module, its imports)
    handlers: dict[tuple[str, str], ast.AST] = {}
    for module, tree in _modules():
        imports = _imports(module, tree)
        for node in tree.body:
            defs = [node] if isinstance(node, _FUNCTIONS) else []
            if isinstance(node, ast.ClassDef):
                defs = [n for n in node.body if isinstance(n, _FUNCTIONS)]
            for func in defs:
                homes[id(func)] = (module, imports)
                spec = _procedure_of(func)
                if spec is not None:
                    handlers[spec] = func
                else:
                    functions[f"{module}:{func.name}"] = func
        for inner in ast.walk(tree):  # handlers defined inside functions (routers built in one)
            if isinstance(inner, _FUNCTIONS) and id(inner) not in homes:
                homes[id(inner)] = (module, imports)
                spec = _procedure_of(inner)
                if spec is not None:
                    handlers[spec] = inner
    memo: dict[int, Found] = {}

    def targets(call: ast.Call, module: str, imports: dict[str, str]) -> Iterator[ast.AST]:
        func = call.func
        if isinstance(func, ast.Name):
            where = imports.get(func.id, f"{module}:{func.id}")
            if ":" in where:
                found = functions.get(where)
                if found is None:  # imported from a package that re-exports it
                    pkg, _, name = where.partition(":")
                    suffix = f":{name}"
                    matches = (
                        f for k, f in functions.items() if k.startswith(pkg) and k.endswith(suffix)
                    )
                    found = next(matches, None)
                if found is not None:
                    yield found
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            module_of = imports.get(func.value.id)
            if module_of is not None:
                module_name = module_of.replace(":", ".")
                found = functions.get(f"{module_name}:{func.attr}")
                if found is not None:
                    yield found

    def closure(func: ast.AST, seen: frozenset[int]) -> Found:
        if id(func) in memo:
            return memo[id(func)]
        module, imports = homes[id(func)]
        found = _raises(func)
        for node in ast.walk(func):
            if isinstance(node, ast.Call):
                for helper in targets(node, module, imports):
                    if id(helper) not in seen:
                        found |= closure(helper, seen | {id(helper)})
        memo[id(func)] = found
        return found

    return {spec: closure(func, frozenset({id(func)})) for spec, func in handlers.items()}


def _procedure_of(func: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[str, str] | None:
    for decorator in func.decorator_list:
        if (
            isinstance(decorator, ast.Call)
            and _callee(decorator) == "procedure"
            and decorator.args
            and isinstance(decorator.args[0], ast.Attribute)
            and isinstance(decorator.args[0].value, ast.Name)
        ):
            return decorator.args[0].value.id, decorator.args[0].attr
    return None
