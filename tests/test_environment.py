"""environment.yml (conda) lists the same packages and pins as pyproject.toml (pip, the source of truth)."""
from __future__ import annotations

import re
import tomllib

import yaml

from osteolib import paths

CONDA_TO_PYPI = {"pytorch": "torch"}
NOT_PACKAGES = {"python", "pip"}


def _split(spec: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", spec)
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((paths.ROOT / "pyproject.toml").read_text())["project"]
    pip_deps = dict(_split(s) for s in project["dependencies"])
    env = yaml.safe_load((paths.ROOT / "environment.yml").read_text())
    conda_deps = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for spec in dep["pip"]:
                if not spec.startswith("-e"):
                    name, pin = _split(spec)
                    conda_deps[name] = pin
        else:
            name, pin = _split(dep)
            if name not in NOT_PACKAGES:
                conda_deps[CONDA_TO_PYPI.get(name, name)] = pin
    assert conda_deps == pip_deps


def test_apis_that_changed_are_pinned_and_torch_has_only_a_floor():
    project = tomllib.loads((paths.ROOT / "pyproject.toml").read_text())["project"]
    deps = dict(_split(s) for s in project["dependencies"])
    assert deps["pingouin"].startswith("==") and deps["grad-cam"].startswith("==")
    assert deps["torch"].startswith(">=") and "<" not in deps["torch"]
    assert deps["torchvision"].startswith(">=") and "<" not in deps["torchvision"]
