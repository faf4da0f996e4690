"""The package's structure: no import cycle (counting the imports inside functions), no import of the
project inside a function, a reason beside every lazy import of a library, a public surface on every
module (``__all__``), and each input file named by its owner alone."""
from __future__ import annotations

import ast
import json
import re
import subprocess
import sys

import pytest

from osteolib import datafolder, paths

PACKAGE = paths.ROOT / "osteolib"
FILES = sorted(PACKAGE.rglob("*.py"))


def module_name(file) -> str:
    parts = file.relative_to(paths.ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(file, node: ast.ImportFrom | ast.Import) -> list[str]:
    """The project modules an import statement names (a package counts as its ``__init__``)."""
    here = module_name(file).split(".")
    package = here if file.name == "__init__.py" else here[:-1]
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.startswith("osteolib")]
    if node.level == 0:
        if not (node.module or "").startswith("osteolib"):
            return []
        base = node.module.split(".")
    else:
        base = package[:len(package) - node.level + 1] + (node.module.split(".") if node.module else [])
    names = [".".join(base)]
    known = {module_name(f) for f in FILES}
    names += [f"{names[0]}.{a.name}" for a in node.names if f"{names[0]}.{a.name}" in known]
    return names


def imports(file, inside_functions: bool | None = None) -> list[tuple[ast.AST, list[str]]]:
    """(node, project modules) of every import statement of ``file``; only those inside a function (True)
    or only those at module level (False), or all (None)."""
    tree = ast.parse(file.read_text())
    nested = set()
    for f in ast.walk(tree):
        if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)):
            nested |= {id(n) for n in ast.walk(f) if isinstance(n, (ast.Import, ast.ImportFrom))}
    out = []
    for n in ast.walk(tree):
        if isinstance(n, (ast.Import, ast.ImportFrom)) and not (isinstance(n, ast.ImportFrom) and n.module == "__future__"):
            if inside_functions is None or (id(n) in nested) == inside_functions:
                out.append((n, _resolve(file, n)))
    return out


def test_no_import_cycle_even_counting_imports_inside_functions():
    known = {module_name(f) for f in FILES}
    graph = {module_name(f): {m for _, ms in imports(f) for m in ms if m in known and m != module_name(f)}
             for f in FILES}
    # a package's __init__ imports its own modules; a module importing its package's __init__ back
    # would close a circle, and counts
    state, cycles = {}, []

    def visit(m, stack):
        state[m] = "open"
        for n in sorted(graph[m]):
            if state.get(n) == "open":
                cycles.append(stack[stack.index(n):] + [n])
            elif n not in state:
                visit(n, stack + [n])
        state[m] = "done"
    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert not cycles, cycles


def test_imports_inside_functions_are_only_lazy_libraries_with_a_reason():
    offenders = []
    for f in FILES:
        lines = f.read_text().splitlines()
        for node, project in imports(f, inside_functions=True):
            here = f"{f.relative_to(paths.ROOT)}:{node.lineno}"
            if project:
                offenders.append(f"{here}: imports the project's {project[0]} inside a function (hides an edge)")
            elif not any("# lazy:" in lines[i] for i in (node.lineno - 1, node.lineno - 2) if i >= 0):
                offenders.append(f"{here}: a library imported inside a function without '# lazy: <why>'")
    assert not offenders, "\n".join(offenders)


def test_every_module_declares_its_public_surface():
    exempt = {"osteolib"}  # the package's own __init__: a module map, no names
    missing = [module_name(f) for f in FILES
               if module_name(f) not in exempt and not f.name == "__main__.py"
               and not any(isinstance(n, ast.Assign) and any(getattr(t, "id", "") == "__all__" for t in n.targets)
                           for n in ast.parse(f.read_text()).body)]
    assert not missing, missing
    for f in FILES:  # and every name it lists exists
        if f.name == "__main__.py" or module_name(f) in exempt:
            continue
        mod = __import__(module_name(f), fromlist=["_"])
        absent = [n for n in mod.__all__ if not hasattr(mod, n)]
        assert not absent, (module_name(f), absent)


#: The input folder's file names: only osteolib.datafolder may spell them.
INPUT_NAMES = [datafolder.CLINICAL, datafolder.LANDMARKS, datafolder.TRUTH, "synthetic.json", "ingest.json",
               "landmarking.csv", "-key.csv", "-validation.csv"]


def _strings(source: str) -> list[tuple[int, str]]:
    """Every string constant of the code that is not a docstring (with its line)."""
    tree = ast.parse(source)
    docs = set()
    for n in ast.walk(tree):
        if isinstance(n, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.body:
            first = n.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docs.add(id(first.value))
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs]


def _notebook_code(nb) -> str:
    cells = json.loads(nb.read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


def test_no_input_file_name_outside_its_owner():
    offenders = []
    sources = [(f.relative_to(paths.ROOT), f.read_text()) for f in FILES if f.name != "datafolder.py"]
    sources += [(nb.relative_to(paths.ROOT), _notebook_code(nb)) for nb in sorted(paths.NOTEBOOKS.glob("*.ipynb"))]
    for name, source in sources:
        for line, text in _strings(source):
            # a name as such (``rois_needs_landmarks.csv``, a study file, only contains one)
            hits = [n for n in INPUT_NAMES if re.search(r"(?<![\w.])" + re.escape(n), text)]
            if hits:
                offenders.append(f"{name}:{line}: {hits[0]} in {text[:60]!r}")
    assert not offenders, "\n".join(offenders)


def test_screening_a_patient_does_not_import_the_training_loop():
    """Loading the screening command and a network from a card stays clear of osteolib.training (the
    worker pool, the repeat loop); the screening itself is run in tests/test_screen.py."""
    code = ("import sys; import osteolib.screen, osteolib.checkpoints, osteolib.cam; "
            "bad = [m for m in sys.modules if m in ('osteolib.training', 'osteolib.bench')]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=paths.ROOT)
    assert out.stdout.strip() == "[]", out.stdout


@pytest.mark.parametrize("module", ["osteolib.config", "osteolib.workflow", "osteolib.steps", "osteolib.settings"])
def test_what_the_workflow_imports_does_not_load_a_network_library(module):
    """The Snakefile (and every job before its kernel starts) reads profiles and the steps table: no torch."""
    code = f"import sys, {module}; print(sorted(m for m in ('torch', 'torchvision', 'efficientnet_pytorch') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=paths.ROOT)
    assert out.stdout.strip() == "[]", out.stdout
