"""The documentation: its generated pages up to date with the code, the README short and its links
whole, and no run's number typed by hand (they come from the results page's generator)."""
from __future__ import annotations

import importlib.util
import re

import pytest

from osteolib import paths, report

DOCS = paths.ROOT / "docs"
README = paths.ROOT / "README.md"


def _generate():
    spec = importlib.util.spec_from_file_location("generate", DOCS / "generate.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_generated_reference_pages_are_those_the_code_writes():
    """Regenerating the parameter reference, the data contract, the layout, the commands' --help and the
    performance tables changes nothing (a new parameter, rule or file without `make docs` fails here)."""
    gen = _generate()
    for rel, make in gen.PAGES.items():
        assert (DOCS / rel).read_text() == make(), f"{rel} is stale: run python docs/generate.py"


def test_every_parameter_and_column_is_in_the_reference():
    import dataclasses
    from osteolib import config, datafolder
    params = (DOCS / "reference" / "parameters.md").read_text()
    for cls in config.Params.registry.values():
        for f in dataclasses.fields(cls):
            assert f"`{f.name}`" in params, f.name
    contract = (DOCS / "reference" / "data-contract.md").read_text()
    for c in datafolder.CLINICAL_COLUMNS + datafolder.LANDMARK_COLUMNS + datafolder.SPACING_COLUMNS:
        assert f"`{c}`" in contract, c


def test_the_readme_is_short_and_its_links_resolve():
    text = README.read_text()
    assert len(text.splitlines()) <= 155
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text)
    local = [l for l in links if not re.match(r"[a-z]+:", l)]
    assert len(local) >= 20
    missing = [l for l in local if not (paths.ROOT / l).exists()]
    assert not missing, missing


def _pages(generated: bool) -> list:
    gen = {DOCS / rel for rel in _generate().PAGES} | set((DOCS / "results").glob("*.md"))
    pages = [p for p in DOCS.rglob("*.md") if "_build" not in p.parts and "notebooks" not in p.parts]
    return [p for p in pages if (p in gen) == generated]


def test_every_local_link_of_the_docs_resolves():
    for page in _pages(False) + _pages(True):
        for link in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", page.read_text()):
            if not re.match(r"[a-z]+:", link):
                assert (page.parent / link).exists(), (page.relative_to(DOCS), link)
        for doc in re.findall(r"\{doc\}`([^`]+)`", page.read_text()):
            assert (page.parent / f"{doc}.md").exists(), (page.relative_to(DOCS), doc)


#: What a result typed by hand looks like: an AUC, a p-value, a net benefit to three decimals.
RESULT = re.compile(r"(?<![\w.+\-])0\.\d{3}(?!\d| mm)")  # signed: a model constant (-0.047/year); mm: a device


def test_no_result_is_typed_by_hand():
    """The README's numbers are its generated block's; the hand-written pages quote none (model constants
    of the generator and the protocol are two-decimal at most)."""
    text = README.read_text()
    block = re.search(re.escape(report.README_BEGIN) + ".*?" + re.escape(report.README_END), text, re.S)
    assert block, "the README has its results block"
    assert not RESULT.findall(text.replace(block.group(0), ""))
    for page in _pages(False):
        assert not RESULT.findall(page.read_text()), page.relative_to(DOCS)


def test_the_readme_block_is_the_results_pages():
    """Both come from one run: the README's AUC table is the results page's."""
    readme = README.read_text()
    page = (DOCS / "results" / "demo.md").read_text()
    rows = [l for l in readme.splitlines() if l.startswith("| ") and "(baseline)" in l or ", image " in l]
    assert rows and all(r in page for r in rows)
    commit = re.search(r"commit `([0-9a-f]{12})", readme).group(1)
    assert commit in page


@pytest.mark.parametrize("item", [i for i, *_ in report.TRIPOD_AI])
def test_the_checklist_covers_every_tripod_ai_item(item):
    assert sum(i == item for i, *_ in report.TRIPOD_AI) == 1
    assert len(report.TRIPOD_AI) == 52 and {i.rstrip("abcdefg") for i, *_ in report.TRIPOD_AI} == {str(n) for n in range(1, 28)}
