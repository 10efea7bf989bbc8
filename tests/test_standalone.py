"""The repository stands alone: no tracked file points outside it (a user's clone has no
``../shared``), and every relative link in the docs resolves inside the repository."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

OUTSIDE = re.compile(r"\.\./shared|/work/shared|(?<![\w/])shared/(?:methodology|analysis-notes)")
MD_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def _tracked(root: Path) -> list[Path]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True)
    return [root / p for p in out.stdout.decode().split("\0") if p]


def _text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return None


def outside_refs(files: list[Path], root: Path) -> list[str]:
    """'path:line: text' for every line of ``files`` that refers outside the repository."""
    hits = []
    for path in files:
        text = _text(path)
        if text is None or path.name == "test_standalone.py":
            continue
        for i, line in enumerate(text.splitlines(), start=1):
            if OUTSIDE.search(line):
                hits.append(f"{path.relative_to(root)}:{i}: {line.strip()[:100]}")
    return hits


def broken_links(files: list[Path], root: Path) -> list[str]:
    """Relative Markdown links that leave the repository or point at nothing."""
    bad = []
    for path in files:
        if path.suffix != ".md" or (text := _text(path)) is None:
            continue
        for target in MD_LINK.findall(text):
            if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
                continue
            dest = (path.parent / target).resolve()
            if not dest.is_relative_to(root.resolve()) or not dest.exists():
                bad.append(f"{path.relative_to(root)} -> {target}")
    return bad


def test_no_tracked_file_refers_outside_the_repository(root):
    assert outside_refs(_tracked(root), root) == []


def test_markdown_links_stay_inside_and_resolve(root):
    assert broken_links(_tracked(root), root) == []


def test_method_page_exists_and_is_linked(root):
    method = root / "docs" / "method.md"
    text = method.read_text(encoding="utf-8")
    for step in ("Step 1", "Step 2", "Step 3", "Step 4", "Step 5"):
        assert f"## {step}." in text
    for param in ("exclusions.outlier_mrr_ratio", "analysis.top_share", "segments.names",
                  "analysis.tree.forced_root", "segments.coverage_min"):
        assert param in text
    assert "(docs/method.md)" in (root / "README.md").read_text(encoding="utf-8")


def test_the_checks_catch_an_outside_link(tmp_path):
    doc = tmp_path / "a.md"
    doc.write_text("See [the method](../shared/methodology.md) and [b](b.md).\n")
    (tmp_path / "b.md").write_text("ok\n")
    assert outside_refs([doc], tmp_path) == ["a.md:1: See [the method](../shared/methodology.md)"
                                             " and [b](b.md)."]
    assert broken_links([doc], tmp_path) == ["a.md -> ../shared/methodology.md"]
