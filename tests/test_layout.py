"""The package reads as the pipeline: no import cycles, steps import only earlier steps, the
checker shares nothing with the planner, and no module grows past the size limit unexplained.

Imports are read from the source (every `import` and `from ... import`, function-local ones
included: a cycle hidden inside a function is still a cycle; only imports under
`if TYPE_CHECKING:`, which never run, are left out).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "riskplan"

#: The pipeline's steps in order; a module may import its own step, earlier steps and the
#: shared vocabulary (rank 0), never a later step.
RANK = {
    "riskplan": 0, "riskplan.i18n": 0, "riskplan.io": 0, "riskplan.outputs": 0, "riskplan.domain": 0,
    "riskplan.load": 1, "riskplan.synth": 1,
    "riskplan.score": 2,
    "riskplan.plan": 3,
    "riskplan.solve": 4,
    "riskplan.check": 5,
    "riskplan.export": 6,
    "riskplan.pipeline": 7,
    "riskplan.replan": 7,  # re-planning mid-quarter, beside the pipeline (issue #13)
    "riskplan.analysis": 8,
    "riskplan.province": 9,
    "riskplan.web": 9.5,
    "riskplan.cli": 10,
    "riskplan.__main__": 11,  # `python -m riskplan`: the command line itself
}
#: What the checker may share with the rest of the package: input loading, the policy model and
#: plain vocabulary (tier names, table specs, roster types). Nothing that derives obligations,
#: the draw, working days or capacity.
CHECK_MAY_IMPORT = {
    "riskplan.i18n", "riskplan.io", "riskplan.outputs", "riskplan.load.district", "riskplan.load.tiers", "riskplan.domain.policy",
    "riskplan.domain.schema", "riskplan.domain.roster", "riskplan.domain.headers",
}
MAX_LINES = 600
#: Modules allowed past MAX_LINES, with the reason.
LONG_MODULES: dict[str, str] = {}


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(path: Path, name: str) -> set[str]:
    """riskplan modules imported anywhere in the file (absolute names)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()
    known = modules()
    type_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                 and ast.unparse(block.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")
                 for stmt in block.body for n in ast.walk(stmt)}
    for node in ast.walk(tree):
        if id(node) in type_only:  # imports for type hints only: never executed, no cycle
            continue
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("riskplan"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base if is_pkg else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if not mod.startswith("riskplan"):
                continue
            for a in node.names:  # `from pkg import module` imports the module
                sub = f"{mod}.{a.name}"
                out.add(sub if sub in known else mod)
    out.discard(name)
    return out


def graph() -> dict[str, set[str]]:
    return {name: imports_of(path, name) for name, path in modules().items()}


def step_of(name: str) -> str:
    parts = name.split(".")
    for k in (2, 1):
        key = ".".join(parts[:k])
        if key in RANK:
            return key
    raise KeyError(name)


def find_cycle(g: dict[str, set[str]]) -> list[str] | None:
    colour: dict[str, int] = defaultdict(int)
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        colour[n] = 1
        stack.append(n)
        for m in sorted(g.get(n, ())):
            if m.startswith("riskplan") and m in g:
                if colour[m] == 1:
                    return stack[stack.index(m):] + [m]
                if colour[m] == 0:
                    found = visit(m)
                    if found:
                        return found
        stack.pop()
        colour[n] = 2
        return None

    for n in sorted(g):
        if colour[n] == 0:
            found = visit(n)
            if found:
                return found
    return None


def test_find_cycle_sees_a_cycle():
    assert find_cycle({"riskplan.a": {"riskplan.b"}, "riskplan.b": {"riskplan.a"}}) == [
        "riskplan.a", "riskplan.b", "riskplan.a"]
    assert find_cycle({"riskplan.a": {"riskplan.b"}, "riskplan.b": set()}) is None


def test_no_import_cycles():
    assert find_cycle(graph()) is None


def test_steps_import_only_earlier_steps():
    bad = []
    for name, deps in graph().items():
        for dep in deps:
            if dep == "riskplan" and name.startswith("riskplan."):
                continue  # the package's own __version__
            if RANK[step_of(dep)] > RANK[step_of(name)]:
                bad.append(f"{name} imports {dep}")
    assert bad == []


def test_the_checker_shares_nothing_with_the_planner():
    bad = []
    for name, deps in graph().items():
        if step_of(name) != "riskplan.check":
            continue
        for dep in deps:
            if step_of(dep) != "riskplan.check" and dep not in CHECK_MAY_IMPORT and dep != "riskplan":
                bad.append(f"{name} imports {dep}")
    assert bad == []


def test_modules_stay_small():
    long = {name: n for name, path in modules().items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert {name: n for name, n in long.items() if name not in LONG_MODULES} == {}
    for name, reason in LONG_MODULES.items():
        assert reason.strip(), name
