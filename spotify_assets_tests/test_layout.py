"""The package's layout rules, read from the source (nothing is imported):

- `spotify_assets.lib` is pure domain code: nothing in it imports Dagster;
- its imports form no cycle, between modules or between its top-level packages (so imports flow
  one way, e.g. playlists → matching, never back);
- SQL lives only in `spotify_assets/lib/store/` repositories: elsewhere in the package no
  `execute(` call, no `psycopg.sql` composition and no string that reads as a SQL statement;
- settings come from the environment only through `spotify_assets/settings.py`;
- run config is built only in `spotify_assets/defs/run_config.py`;
- the CLI and the web app read no materialization metadata by key: they read typed reports
  (`spotify_assets/lib/reports.py`).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "spotify_assets"
LIB = PACKAGE / "lib"
STORE = LIB / "store"
LIB_NAME = "spotify_assets.lib"

# A statement, not a word: uppercase keywords as SQL is written in this project.
SQL_STATEMENT = re.compile(
    r"\bSELECT\b|\bINSERT\s+INTO\b|\bDELETE\s+FROM\b|\bUPDATE\s+\w+(\s+\w+)?\s+SET\b"
    r"|\b(CREATE|ALTER|DROP)\s+(UNIQUE\s+)?(TABLE|INDEX|EXTENSION|DATABASE)\b|\bTRUNCATE\b"
    r"|\bSET\s+(LOCAL\s+)?[a-z_.]+\s*(=|TO\b)|\bSHOW\s+[a-z_]+\b|\bANALYZE\s+[a-z_]+\b"
)
EXECUTE_CALLS = {"execute", "executemany"}


def _modules(root: Path, name: str) -> dict[str, Path]:
    """Dotted module name → file, for every module under `root` (a package named `name`)."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = [p for p in path.relative_to(root).with_suffix("").parts if p != "__init__"]
        out[".".join([name, *parts])] = path
    return out


def _imported(tree: ast.AST) -> Iterator[tuple[str, int]]:
    """(dotted name, line) of everything a module imports, module level or inside functions;
    `from a import b` yields a.b (b may be a module or a name in a)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                yield f"{node.module}.{alias.name}", node.lineno


def lib_import_graph() -> dict[str, set[str]]:
    """Module → the `spotify_assets.lib` modules it imports."""
    modules = _modules(LIB, LIB_NAME)

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        for name, _ in _imported(ast.parse(path.read_text(), str(path))):
            if name.startswith(LIB_NAME + "."):
                target = resolve(name)
                if target and target != module:
                    graph[module].add(target)
    return graph


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The same graph between lib's top-level packages (a root module counts as its own)."""

    def top(module: str) -> str:
        return module[len(LIB_NAME) + 1 :].split(".")[0] or "<lib>"

    out: dict[str, set[str]] = {}
    for module, targets in graph.items():
        out.setdefault(top(module), set())
        for target in targets:
            if top(target) != top(module):
                out[top(module)].add(top(target))
    for targets in list(out.values()):
        for target in targets:
            out.setdefault(target, set())
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_lib_modules_import_each_other_without_cycles():
    graph = lib_import_graph()
    assert len(graph) > 50, "the graph should cover all of spotify_assets.lib"
    assert cycles(graph) == []


def test_lib_packages_import_each_other_without_cycles():
    graph = package_graph(lib_import_graph())
    assert cycles(graph) == []
    assert "matching" not in graph["playlists"], "playlists must not import matching"


def test_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_lib_never_imports_dagster():
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{line}: {name}"
        for path in sorted(LIB.rglob("*.py"))
        for name, line in _imported(ast.parse(path.read_text(), str(path)))
        if name.split(".")[0] == "dagster" or name.startswith("dagster_")
    ]
    assert offenders == []


def sql_outside_store() -> list[str]:
    """`file:line: what` for SQL anywhere in the package but lib/store."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.is_relative_to(STORE):
            continue
        where = path.relative_to(PACKAGE.parent)
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in EXECUTE_CALLS
            ):
                found.append(f"{where}:{node.lineno}: .{node.func.attr}(")
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and (match := SQL_STATEMENT.search(node.value))
            ):
                found.append(f"{where}:{node.lineno}: {match.group(0)!r}")
        for name, line in _imported(tree):
            if name in ("psycopg.sql", "psycopg.sql.SQL"):
                found.append(f"{where}:{line}: import {name}")
    return found


def test_sql_lives_only_in_store_repositories():
    assert sql_outside_store() == []


def test_the_sql_check_sees_sql():
    samples = [
        "SELECT count(*) FROM tracks",
        "INSERT INTO plays (a) VALUES (%s)",
        "DELETE FROM candidates WHERE person = %s",
        "UPDATE track_embeddings e SET x = 1",
        "SET LOCAL random_page_cost = 1.1",
        "SET maintenance_work_mem = '512MB'",
        "SHOW server_version",
        "CREATE INDEX i ON t (c)",
    ]
    assert [s for s in samples if not SQL_STATEMENT.search(s)] == []
    prose = ["Select a playlist", "the update sets the cursor", "show the server's version"]
    assert [s for s in prose if SQL_STATEMENT.search(s)] == []


def environment_reads() -> list[str]:
    """`file:line` for every `os.environ` / `os.getenv` in the package outside settings.py and
    the CLI (which passes the environment on to the processes it starts)."""
    allowed = {PACKAGE / "settings.py", *(PACKAGE / "cli").rglob("*.py")}
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path in allowed:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in ("environ", "getenv")
                and isinstance(node.value, ast.Name)
                and node.value.id == "os"
            ):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: os.{node.attr}")
    return found


def test_settings_are_read_from_the_environment_in_one_place():
    assert environment_reads() == []


RUN_CONFIG_BUILDER = PACKAGE / "defs" / "run_config.py"
METADATA_READERS = (PACKAGE / "cli", PACKAGE / "web")  # where reports are read, never by key
REPORTS_MODULE = LIB / "reports.py"


def hand_built_run_config(source: str, where: str = "<string>") -> list[str]:
    """`where:line: what` for run config built by hand: a dict literal with an "ops" key,
    `dict(ops=…)` or a `RunConfig(…)` call (run config belongs in defs/run_config.py)."""
    found = []
    for node in ast.walk(ast.parse(source, where)):
        if isinstance(node, ast.Dict) and any(
            isinstance(k, ast.Constant) and k.value == "ops" for k in node.keys
        ):
            found.append(f"{where}:{node.lineno}: {{'ops': …}}")
        elif isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(
                node.func, "id", ""
            )  # fmt: skip
            if name == "RunConfig" or (
                name == "dict" and any(k.arg == "ops" for k in node.keywords)
            ):
                found.append(f"{where}:{node.lineno}: {name}(…)")
    return sorted(found, key=lambda hit: int(hit.split(":")[1]))


def _names_metadata(node: ast.expr) -> bool:
    """`metadata`, `x.metadata`, `x.metadata()`, `step_metadata`: an expression that reads as
    materialization metadata."""
    if isinstance(node, ast.Call):
        node = node.func
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
    return "metadata" in name.lower()


def report_keys() -> set[str]:
    """Every metadata key a report of lib/reports.py reads: its fields' names, or the name
    given with `key("…")`."""
    keys = set()
    for node in ast.walk(ast.parse(REPORTS_MODULE.read_text())):
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    value = item.value
                    named = (
                        isinstance(value, ast.Call)
                        and getattr(value.func, "id", "") == "key"
                        and isinstance(value.args[0], ast.Constant)
                    )
                    keys.add(value.args[0].value if named else item.target.id)
    return keys


def metadata_key_reads(
    source: str, where: str = "<string>", keys: set[str] = frozenset()
) -> list[str]:
    """`where:line: expression` for each metadata key read by string: `…metadata["k"]` or
    `…metadata.get("k")`, or any `x["k"]` / `x.get("k")` of a key in `keys` (what reports
    read). The CLI and the web app read typed reports (lib/reports.py) instead."""
    found = []
    for node in ast.walk(ast.parse(source, where)):
        if isinstance(node, ast.Subscript):
            target, key = node.value, node.slice
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and node.args
        ):
            target, key = node.func.value, node.args[0]
        else:
            continue
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            continue
        if _names_metadata(target) or key.value in keys:
            found.append(f"{where}:{node.lineno}: {ast.unparse(node)}")
    return sorted(found, key=lambda hit: int(hit.split(":")[1]))


def test_run_config_is_built_only_in_the_builder():
    found = [
        hit
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != RUN_CONFIG_BUILDER
        for hit in hand_built_run_config(path.read_text(), str(path.relative_to(PACKAGE.parent)))
    ]
    assert found == []
    assert hand_built_run_config(RUN_CONFIG_BUILDER.read_text()), "the builder builds RunConfig"


def test_the_cli_and_web_app_read_no_metadata_key_by_string():
    keys = report_keys()
    assert {"loaded", "summary", "context_hash", "suite/hybrid_p@10", "file_accounts"} <= keys
    found = [
        hit
        for root in METADATA_READERS
        for path in sorted(root.rglob("*.py"))
        for hit in metadata_key_reads(path.read_text(), str(path.relative_to(PACKAGE.parent)), keys)
    ]
    assert found == []


def test_the_run_config_and_metadata_checks_see_violations():
    hand_built = """
launch("load_catalog", instance, run_config={"ops": {"catalog_tracks": {"config": {}}}})
config = dict(ops={"listening_history": {"config": {"source": "none"}}})
request = dg.RunRequest(run_config=dg.RunConfig(ops={}))
"""
    assert [hit.split(": ", 1)[1] for hit in hand_built_run_config(hand_built)] == [
        "{'ops': …}", "dict(…)", "RunConfig(…)",
    ]  # fmt: skip
    fine = """
ops = {"candidates": config}
names = ["ops", "loggers"]
source = request.run_config["ops"]["listening_history"]["config"]["source"]
"""
    assert hand_built_run_config(fine) == []
    reads = """
m = run.metadata()["match_results"]
x = metadata.get("loaded")
y = event.materialization.metadata["summary"].value
z = step_metadata.get("file_accounts", [])
"""
    assert [hit.split(": ", 1)[1] for hit in metadata_key_reads(reads)] == [
        "run.metadata()['match_results']",
        "metadata.get('loaded')",
        "event.materialization.metadata['summary']",
        "step_metadata.get('file_accounts', [])",
    ]
    # metadata under another name, read by a key some report reads
    aliased = """
line = f"loaded {m.get('loaded')}"
found = {a: m["summary"] for a, m in runs.items()}
"""
    assert len(metadata_key_reads(aliased, keys=report_keys())) == 2
    unrelated = """
name = row["name"]
origin = request.headers.get("origin")
value = metadata[asset]
for key, value in materialization.metadata.items(): pass
"""
    assert metadata_key_reads(unrelated, keys=report_keys()) == []


AUTOMATION = re.compile(
    r"define_asset_job\(|@dg\.(sensor|schedule|job|asset_sensor|multi_asset_sensor)\b"
    r"|ScheduleDefinition\(|build_schedule_from_partitioned_job\("
)


def stray_automation(source: str) -> list[str]:
    """Lines defining a job, schedule or sensor."""
    return [line.strip() for line in source.splitlines() if AUTOMATION.search(line)]


def test_jobs_schedules_and_sensors_live_beside_their_stage_s_assets():
    """Each stage's automation sits in its own package under defs/ (e.g. defs/catalog/
    automation.py), never in a module of defs/ itself, away from the assets it runs."""
    top = [p for p in sorted((PACKAGE / "defs").glob("*.py"))]
    found = {p.name: hits for p in top if (hits := stray_automation(p.read_text()))}
    assert found == {}
    stages = {p.parent.name for p in (PACKAGE / "defs").rglob("*.py")
              if p.parent != PACKAGE / "defs" and stray_automation(p.read_text())}  # fmt: skip
    assert {"catalog", "embeddings", "playlists", "matching", "listening"} <= stages
    assert stray_automation('job = dg.define_asset_job("x", selection=[a])\n@dg.sensor(job=job)')
