"""Sphinx configuration: MyST markdown pages, the notebooks rendered as they are (never executed), the
PyData theme; strict (``make docs`` builds with -W: a warning, a broken cross-reference or a missing
page fails the build) and offline (no intersphinx, no remote assets)."""
from __future__ import annotations

import shutil
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent

project = "osteolib"
author = "osteolib contributors"
copyright = "2026, osteolib contributors"
extensions = ["myst_nb"]
exclude_patterns = ["_build", "generate.py", "Thumbs.db", ".DS_Store"]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = "off"          # the notebooks are the stripped sources: shown, never run here
nb_merge_streams = True
html_theme = "pydata_sphinx_theme"
html_theme_options = {"navigation_with_keys": False, "show_nav_level": 2, "use_edit_page_button": False}
html_title = "osteolib"
html_static_path: list[str] = []
nitpicky = True

# The notebooks are documented from the repository's own sources (copied at build time, not kept twice).
_target = DOCS / "notebooks"
_target.mkdir(exist_ok=True)
for nb in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
    shutil.copyfile(nb, _target / nb.name)
