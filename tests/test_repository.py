"""The repository as a whole: it stands on its own, its module map matches the code, and only the
layout names a study's files."""
from __future__ import annotations

import re
import subprocess

import pytest

import osteolib
from osteolib import paths

PACKAGE = paths.ROOT / "osteolib"


def modules() -> set[str]:
    """Top-level modules and subpackages of osteolib."""
    out = {p.stem for p in PACKAGE.glob("*.py") if not p.name.startswith("_")}
    return out | {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}


def test_module_map_of_readme_and_package_matches_the_code():
    readme = (paths.ROOT / "README.md").read_text()
    table = readme.split("### Module map", 1)[1].split("\n\n", 2)[1]
    in_readme = set(re.findall(r"^\| `(\w+)` \|", table, re.M))
    in_init = set(re.findall(r"^(\w+)\s{2,}", osteolib.__doc__.split("=\n", 1)[1], re.M))
    assert in_readme == modules(), in_readme ^ modules()
    assert in_init == modules(), in_init ^ modules()


def tracked_files() -> list[str]:
    try:
        out = subprocess.run(["git", "-C", str(paths.ROOT), "ls-files"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [f for f in out.stdout.splitlines() if (paths.ROOT / f).is_file()]


def test_the_repository_cites_nothing_a_clone_lacks():
    # the names are split so that this file does not cite them itself
    bad = re.compile("STUDY" + r"\.md|\.\./" + "shared")
    offenders = [f for f in tracked_files() if not f.endswith((".png", ".svg"))
                 and bad.search((paths.ROOT / f).read_text(errors="ignore"))]
    assert not offenders


#: Pieces of a study's folder grammar; joining them into a path is the layout's business alone.
GRAMMAR = re.compile(r'/\s*"(runs|rois|cohort|stats|figures|cam|notebooks|splits\.csv|cohort\.csv|rois\.csv|'
                     r'predictions\.csv|metrics\.json|geometry\.json)"|f"r\{[^}]*:02d\}"\s*$|"manifest_')


def test_only_the_layout_builds_a_study_path():
    offenders = []
    for f in PACKAGE.rglob("*.py"):
        if f.name in ("layout.py", "paths.py"):  # paths: the repository's own folders, not a study's
            continue
        for i, line in enumerate(f.read_text().splitlines(), 1):
            if GRAMMAR.search(line):
                offenders.append(f"{f.relative_to(paths.ROOT)}:{i}: {line.strip()}")
    snakefile = (paths.ROOT / "workflow" / "Snakefile").read_text()
    offenders += [f"Snakefile: {m}" for m in re.findall(r'f"\{OUT\}[^"]*"', snakefile)]
    assert not offenders, "\n".join(offenders)
