"""The rooms of the code base and what each may import, read from the source (every import,
also those inside functions, counts).

docs/architecture.md describes the rooms; this test is what keeps them so.
"""

from __future__ import annotations

import ast
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOT_INSTALLED = {"tests", "benchmarks", "scripts", "docs", "build", "dist"}
STDLIB = set(sys.stdlib_module_names)

# Who may import what, by room (a module prefix). Third-party and standard-library
# modules are named by their top-level name.
DOMAIN = "mock_psp.domain"
RUNTIME = "mock_psp.runtime"
CLIENT = "mock_psp.client"
MERCHANT = "mock_psp.test_merchant"
SERVER = "mock_psp.runtime.server"  # the serving layer (waitress and its deadlines), shared with the shop
HTTP_CLIENTS = {"requests", "urllib3", "httpx", "aiohttp", "http.client", "urllib.request"}
WEB_FRAMEWORKS = {"flask", "werkzeug", "jinja2", "markupsafe", "waitress"}
# The HTTP handlers of these rooms (their modules that import Flask) parse, call one service and
# serialise: transactions are the services'. A dialect reaches SQLite only through the domain at all.
HANDLER_ROOMS = ("mock_psp.dialects", "mock_psp.control", "mock_psp.dashboard", "mock_psp.checkout")
DIALECTS = "mock_psp.dialects"


def _packages() -> list[Path]:
    return sorted(p.parent for p in ROOT.glob("*/__init__.py") if p.parent.name not in NOT_INSTALLED)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    found = {}
    for package in _packages():
        for path in package.rglob("*.py"):
            found[_module_name(path)] = path
    return found


def _is_package(name: str) -> bool:
    return modules()[name].name == "__init__.py"


def _resolve(importer: str, importer_is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = importer.split(".")
    if not importer_is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_in(source: str, importer: str, importer_is_package: bool, known: set[str] | dict) -> set[str]:
    """Every module the source imports, wherever the import statement stands (``from a import b``
    names ``a.b`` when that is a known module, else ``a``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(importer, importer_is_package, node)
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                found.add(submodule if submodule in known else target)
    return found


@cache
def imports_of(name: str) -> frozenset[str]:
    return frozenset(imports_in(modules()[name].read_text(), name, _is_package(name), modules()))


def _internal(target: str) -> str | None:
    """The internal module an import runs (the longest known prefix), or None for outside code."""
    parts = target.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules():
            return candidate
    return None


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:end]) for end in range(1, len(parts)) if ".".join(parts[:end]) in modules()]


@cache
def graph() -> dict[str, frozenset[str]]:
    """Module -> the internal modules importing it runs: what it imports, and their packages."""
    edges = {}
    for name in modules():
        targets = set()
        for target in imports_of(name):
            internal = _internal(target)
            if internal is not None:
                targets.add(internal)
                targets.update(_parents(internal))
        targets.discard(name)
        edges[name] = frozenset(t for t in targets if not name.startswith(t + "."))
    return edges


def _in(name: str, room: str) -> bool:
    return name == room or name.startswith(room + ".")


def _outside_names(name: str) -> set[str]:
    """The outside modules ``name`` imports, as written (``http.client``)."""
    return {target for target in imports_of(name) if _internal(target) is None}


def _forbidden(target: str, names: set[str]) -> bool:
    """Whether an outside module is one of ``names`` or inside one of them."""
    return any(target == n or target.startswith(n + ".") for n in names)


def _room_modules(room: str) -> list[str]:
    return sorted(n for n in modules() if _in(n, room))


def cycles() -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph()[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in sorted(graph()):
        if node not in index:
            visit(node)
    return found


def test_the_distribution_installs_one_top_level_package():
    assert [p.name for p in _packages()] == ["mock_psp"]


def test_no_module_imports_itself_back_through_another():
    assert cycles() == []


def test_the_domain_imports_no_web_framework_no_http_client_and_no_dialect():
    problems = {}
    for name in _room_modules(DOMAIN):
        bad = sorted(t for t in _outside_names(name) if _forbidden(t, WEB_FRAMEWORKS | HTTP_CLIENTS)
                     or t.split(".")[0] not in STDLIB | {"sqlite_utils"})
        bad += sorted(t for t in graph()[name] if not (_in(t, DOMAIN) or _in(t, RUNTIME) or t == "mock_psp"))
        if bad:
            problems[name] = bad
    assert problems == {}


def test_the_runtime_knows_nothing_of_payments_or_http_handlers():
    assert _room_modules(RUNTIME), "there is no mock_psp.runtime"
    problems = {name: sorted(t for t in graph()[name] if not (_in(t, RUNTIME) or t == "mock_psp"))
                for name in _room_modules(RUNTIME)}
    assert {k: v for k, v in problems.items() if v} == {}


def _transaction_calls(name: str) -> list[str]:
    """Calls that open a transaction or run SQL: ``store.write()``, ``db.execute(...)``, ``unit_of_work``."""
    tree = ast.parse(modules()[name].read_text())
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute):
            receiver = ast.unparse(func.value)
            if func.attr in ("write", "read") and "store" in receiver.lower():
                found.append(f"line {node.lineno}: {ast.unparse(func)}()")
            elif func.attr in ("execute", "executemany", "executescript", "atomic"):
                found.append(f"line {node.lineno}: {ast.unparse(func)}()")
        if isinstance(func, (ast.Name, ast.Attribute)) and ast.unparse(func).endswith("unit_of_work"):
            found.append(f"line {node.lineno}: {ast.unparse(func)}()")
    return found


def _handlers(room: str) -> list[str]:
    """The room's modules a request runs through: all of a dialect's, the Flask modules of the others."""
    names = _room_modules(room)
    if room == DIALECTS:
        return names
    return [n for n in names if any(_forbidden(t, {"flask"}) for t in _outside_names(n))]


@pytest.mark.parametrize("room", HANDLER_ROOMS)
def test_http_handlers_reach_sqlite_only_through_the_domain_services(room):
    problems = {}
    assert _handlers(room), f"no HTTP handlers in {room}"
    for name in _handlers(room):
        bad = [f"imports {t}" for t in sorted(_outside_names(name)) if _forbidden(t, {"sqlite3", "sqlite_utils"})]
        bad += [f"imports {t}" for t in sorted(graph()[name]) if t in (f"{RUNTIME}.store", f"{RUNTIME}.schema")]
        bad += _transaction_calls(name)
        if bad:
            problems[name] = bad
    assert problems == {}


def test_the_test_merchant_knows_the_provider_only_through_its_http_apis():
    # It runs on the provider's serving layer (a WSGI server, nothing of the provider's model).
    serving = {SERVER, RUNTIME}
    problems = {name: sorted(t for t in graph()[name]
                             if not (_in(t, MERCHANT) or _in(t, CLIENT) or t in serving or t == "mock_psp"))
                for name in _room_modules(MERCHANT)}
    assert _room_modules(MERCHANT), "the test merchant is not where docs/architecture.md says"
    assert {k: v for k, v in problems.items() if v} == {}


def test_the_control_client_is_plain_http():
    problems = {name: sorted(t for t in graph()[name] if not (_in(t, CLIENT) or t == "mock_psp"))
                for name in _room_modules(CLIENT)}
    assert _room_modules(CLIENT), "there is no mock_psp.client"
    assert {k: v for k, v in problems.items() if v} == {}


def test_package_init_files_run_no_imports_of_their_own_package():
    """A package's __init__ that imports its children makes every child import its parent back."""
    problems = {}
    for name in modules():
        if _is_package(name):
            inside = sorted(t for t in graph()[name] if t.startswith(name + "."))
            if inside:
                problems[name] = inside
    assert problems == {}


def test_the_import_reader_sees_relative_function_level_and_submodule_imports():
    # The rules above are only as good as this reader: check it on the shapes it must catch.
    source = "from . import b, c\n\ndef f():\n    from ..x import y\n    import flask.json\n"
    known = {"pkg.sub.b", "pkg.x"}
    assert imports_in(source, "pkg.sub.a", False, known) == {"pkg.sub.b", "pkg.sub", "pkg.x", "flask.json"}
    assert imports_in("from . import b", "pkg.sub", True, {"pkg.sub.b"}) == {"pkg.sub.b"}


# What the middle rooms may import besides themselves (docs/architecture.md's table).
ALLOWED = {
    "mock_psp.webhooks": {DOMAIN, RUNTIME},
    "mock_psp.web": {DOMAIN, RUNTIME},
    "mock_psp.checkout": {DOMAIN, RUNTIME},
    "mock_psp.control": {DOMAIN, RUNTIME, "mock_psp.web", "mock_psp.webhooks"},
    "mock_psp.dashboard": {DOMAIN, RUNTIME, "mock_psp.web", "mock_psp.webhooks", "mock_psp.checkout",
                           "mock_psp.control"},
    "mock_psp.dialects": {DOMAIN, RUNTIME, "mock_psp.web", "mock_psp.webhooks", "mock_psp.checkout"},
}


@pytest.mark.parametrize("room", ALLOWED)
def test_each_room_imports_only_the_rooms_below_it(room):
    problems = {}
    for name in _room_modules(room):
        bad = sorted(t for t in graph()[name]
                     if t != "mock_psp" and not _in(t, room) and not any(_in(t, r) for r in ALLOWED[room]))
        if bad:
            problems[name] = bad
    assert _room_modules(room) and problems == {}
