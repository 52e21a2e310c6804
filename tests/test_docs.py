"""The README documents every import kind, every column of every format, every setting
and every CLI command: a user never has to read the source."""

from __future__ import annotations

from pathlib import Path

from cxmetrics.cli import main
from cxmetrics.ingest import KINDS
from cxmetrics.settings import SETTINGS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_import_kind_and_column_is_documented():
    for name, kind in KINDS.items():
        assert f"`{name}`" in README, name
        for col in kind.inputs:
            assert col.name in README, (name, col.name)


def test_every_setting_is_documented():
    for s in SETTINGS:
        assert f"`{s.name}`" in README and s.default in README, s.name


def test_every_cli_command_is_documented():
    for name in main.commands:
        assert f"  {name}" in README or f"cxmetrics {name}" in README, name


def test_quickstart_has_the_two_commands_and_ci_runs_the_test_one():
    assert ".venv/bin/cxmetrics demo" in README
    assert "./scripts/test" in README
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert "./scripts/test" in ci


def test_every_metric_is_documented_as_declared():
    # the README's metric table is generated from the registry: regenerate it with
    # `.venv/bin/python scripts/gen_metric_docs.py` when a declaration changes
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "scripts" / "gen_metric_docs.py"
    spec = importlib.util.spec_from_file_location("gen_metric_docs", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.table() in README


ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_docs_metrics_page_holds_the_generated_table():
    # docs/metrics.md carries the same generated table as the README (issue 10, item 11)
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_metric_docs", ROOT / "scripts" / "gen_metric_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    page = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    assert module.table() in page
    # and it defines every metric of the registry in words too, not only in the table
    from cxmetrics.metrics._registry import registry

    prose = page.split(module.BEGIN)[0]
    base = {s.id.removesuffix("_bh") for s in registry()}
    missing = sorted(m for m in base if f"`{m}`" not in prose)
    assert not missing, f"docs/metrics.md does not define {missing}"


def test_design_and_data_pages_exist():
    for name in ("design.md", "metrics.md", "data.md"):
        assert (ROOT / "docs" / name).exists(), name


def test_no_doc_links_outside_the_repository():
    """A user who clones the repository has only the repository: every relative link of the
    README and docs/ resolves to a file or folder in it, and nothing points at ../shared."""
    import re

    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        assert "../shared" not in text, f"{doc.name} refers to ../shared"
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue  # a web address or an anchor in the page
            path = (doc.parent / target.split("#")[0]).resolve()
            assert path.is_relative_to(ROOT), f"{doc.name} links outside the repository: {target}"
            assert path.exists(), f"{doc.name} links to a missing {target}"


def test_readme_says_to_activate_the_venv_before_bare_commands():
    # every example writes `cxmetrics ...` bare: the quickstart must first put it on PATH
    activate = README.find(". .venv/bin/activate")
    assert activate >= 0
    import re

    bare = [m.start(1) + b.start() for m in re.finditer(r"```bash\n(.*?)```", README, flags=re.S)
            for b in re.finditer(r"(?m)^cxmetrics ", m.group(1))]
    first_bare = min(bare)
    assert activate < first_bare


def test_every_connector_setting_is_documented_under_live_sync():
    # docs/connectors.md "Live sync" lists every [connectors.VENDOR] key a user may set (issue 12)
    from cxmetrics.settings import CONNECTOR_KEYS

    page = (ROOT / "docs" / "connectors.md").read_text(encoding="utf-8")
    live = page[page.index("\n## Live sync"):]
    live = live[:live.index("\n## ", 1)]
    missing = [k.name for k in CONNECTOR_KEYS if f"| `{k.name}` |" not in live]
    assert not missing, f"docs/connectors.md, Live sync, does not document {missing}"
