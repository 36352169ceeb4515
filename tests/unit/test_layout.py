"""The shape of the code: one package per task that imports no other task's backends, and no import circle."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TASKS = ("detection", "tracking", "language")


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {module_name(p): p for package in ("runners", "services") for p in (REPO / package).rglob("*.py")}


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """Every project module `path` imports, at the top or inside a function (a circle through a lazy import is still
    a circle in the design)."""
    found = set()
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # `from pkg import module`
    return {name for name in found if name in modules}


def test_no_import_circle_in_runners_or_services():
    modules = project_modules()
    graph = {name: imports_of(path, modules) - {name} for name, path in modules.items()}
    # a package's __init__ is imported before its modules: count `a.b` importing `a` as no edge back
    graph = {name: {t for t in targets if not name.startswith(t + ".")} for name, targets in graph.items()}
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    cycles = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                cycles.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target, stack + [target])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


@pytest.mark.parametrize("task", TASKS)
def test_a_task_package_imports_no_other_tasks_backends(task, demo_config):
    """Importing a runner service loads its own registry, not its backends (they load with the first model), and
    nothing of the other tasks but the detection runner the tracking runner asks for objects."""
    code = (f"import sys, json, runners.{task}, runners.{task}.service; "
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('runners.'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True,
                         env={"MODEL_CONFIG": str(demo_config), "PATH": "/usr/bin:/bin"})
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert f"runners.{task}.service" in loaded and f"runners.{task}.registry" in loaded
    # the backends' shared contracts (backends/base.py, engines/chat.py) are the runner's vocabulary, not a backend
    contracts = {f"runners.{task}.backends", f"runners.{task}.backends.base", "runners.language.engines",
                 "runners.language.engines.chat"}
    backends = [m for m in loaded if (".backends" in m or ".engines" in m) and m not in contracts]
    assert backends == []
    others = {m.split(".")[1] for m in loaded} - {"core", task}
    assert others == ({"detection"} if task == "tracking" else set())


def test_the_models_and_the_in_process_tasks_never_import_bentoml(demo_config):
    """What a Ray actor runs (the runners' model classes, the tasks, the exports) imports no BentoML: only the
    services that serve them over HTTP do."""
    code = ("import sys, services.batch.on_ray, services.batch.in_process, runners.core.models, "
            "runners.detection.frames, runners.tracking.follow, runners.language.models; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('bentoml', '_bentoml_sdk', '_bentoml_impl')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True,
                         env={"MODEL_CONFIG": str(demo_config), "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip().splitlines()[-1] == "[]"
