"""Every citation in a shipped file resolves inside the repository (or is an upstream link).

Shipped files: the package (code, chains, presets), docs/, notebooks/, examples/, benchmarks/,
README.md, Makefile and pyproject.toml. They may not name a path outside the repository (a team
desk such as ``../shared``, an absolute home or work directory), and each citation key must point
at something that exists:

* "facts §N" (also "facts §N-M", "facts §N, §M", "facts §0 / §N"): a section of docs/facts.md;
* "cal. row N" / "cal. rows N-M": a row of docs/calibration.md's table; "cal. §N" and
  "calibration.md §N": a section of docs/calibration.md;
* "realdata 1.xx": a scrape ``examples/metrics/kubelet-1.xx-*.prom``;
* a Markdown file named without a directory (``DESIGN.md``, ``calibration.md``): a Markdown
  file of the repository with that name, unless an upstream repository precedes it
  (``containernetworking/cni SPEC.md``, ``kubernetes/kubernetes@<sha>:CHANGELOG-1.10.md``; paths
  with a directory are upstream paths such as ``CRIO-v1.24 docs/crio.conf.5.md``);
* a relative Markdown link in a .md file: a file inside the repository.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_DIRS = ("simulator", "docs", "notebooks", "examples", "benchmarks")
SHIPPED_TOP = ("README.md", "Makefile", "pyproject.toml")
TEXT_SUFFIXES = {".py", ".yaml", ".yml", ".md", ".ipynb", ".toml", ".txt", ".html", ".j2", ".cfg", ""}

OUTSIDE = re.compile(r"(/work/|\.\./shared|\bshared/(?:domain|realdata|bench|hooks)\b|kubelet-facts\.md"
                     r"|/home/[a-z]|/Users/[A-Za-z]|/tmp/kubesim|file://)")
NUM = r"\d+(?:\.\d+)*"
FACTS = re.compile(rf"facts\s+((?:§{NUM}(?:[-–]{NUM})?(?:\s+step\s+\d+)?(?:\s*(?:,|/|and)\s*)?)+)")
SECTION = re.compile(rf"§({NUM})(?:[-–]({NUM}))?")
CAL_ROWS = re.compile(r"cal\.\s+rows?\s+(\d+)(?:\s*[-–]\s*(\d+))?")
CAL_SECTIONS = re.compile(rf"(?:cal\.|calibration\.md)\s+§({NUM})")
REALDATA = re.compile(r"realdata\s+(1\.\d+)")
MD_NAME = re.compile(r"(?<![\w/.:…-])([A-Za-z_][\w-]*(?:\.[\w-]+)*\.md)\b(?!/)")
UPSTREAM_BEFORE = re.compile(r"[\w.-]+/[\w.-]+(?:@[\w.-]+)?(?::|\s+)$")
MD_LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")


def shipped_files() -> list[Path]:
    files = [ROOT / name for name in SHIPPED_TOP]
    for d in SHIPPED_DIRS:
        files += [p for p in sorted((ROOT / d).rglob("*")) if p.is_file() and p.suffix in TEXT_SUFFIXES
                  and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts]
    return files


def _headings(path: Path) -> set[str]:
    return {m.group(1) for m in re.finditer(rf"^#{{2,4}}\s+({NUM})\.?\s", path.read_text(), re.M)}


FACT_SECTIONS = _headings(ROOT / "docs" / "facts.md")
CAL_SECTION_SET = _headings(ROOT / "docs" / "calibration.md")
CAL_ROW_SET = {int(m.group(1)) for m in re.finditer(r"^\|\s*(\d+)\s*\|", (ROOT / "docs" / "calibration.md")
                                                    .read_text(), re.M)}
MD_NAMES = {p.name for p in ROOT.rglob("*.md") if ".git" not in p.parts}


def citation_problems(path: Path, text: str) -> list[str]:
    """What in ``text`` (the content of ``path``) does not resolve inside the repository."""
    rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    out = []

    def where(m: re.Match) -> str:
        return f"{rel}:{text.count(chr(10), 0, m.start()) + 1}"

    for m in OUTSIDE.finditer(text):
        out.append(f"{where(m)}: path outside the repository {m.group(0)!r}")
    for m in FACTS.finditer(text):
        for s in SECTION.finditer(m.group(1)):
            for n in filter(None, s.groups()):
                if n not in FACT_SECTIONS:
                    out.append(f"{where(m)}: 'facts §{n}' is not a section of docs/facts.md")
    for m in CAL_ROWS.finditer(text):
        for n in filter(None, m.groups()):
            if int(n) not in CAL_ROW_SET:
                out.append(f"{where(m)}: 'cal. row {n}' is not a row of docs/calibration.md")
    for m in CAL_SECTIONS.finditer(text):
        if m.group(1) not in CAL_SECTION_SET:
            out.append(f"{where(m)}: 'cal. §{m.group(1)}' is not a section of docs/calibration.md")
    for m in REALDATA.finditer(text):
        if not list((ROOT / "examples" / "metrics").glob(f"kubelet-{m.group(1)}-*.prom")):
            out.append(f"{where(m)}: 'realdata {m.group(1)}' has no scrape in examples/metrics/")
    for m in MD_NAME.finditer(text):
        if UPSTREAM_BEFORE.search(text, max(0, m.start() - 80), m.start()):
            continue
        if m.group(1) not in MD_NAMES:
            out.append(f"{where(m)}: {m.group(1)!r} is not a file of the repository")
    if path.suffix == ".md":
        for m in MD_LINK.finditer(text):
            target = m.group(1)
            if re.match(r"[a-z]+:", target):  # an upstream link (https:, mailto:)
                continue
            resolved = (path.parent / target).resolve()
            if not resolved.is_relative_to(ROOT) or not resolved.exists():
                out.append(f"{where(m)}: link {target!r} does not resolve inside the repository")
    return out


def test_the_citation_targets_exist():
    """The test scans against real section, row and file lists (not empty ones)."""
    assert {"0", "1.2", "2.3", "3.3", "4.6", "5.2", "6", "8"} <= FACT_SECTIONS
    assert {10, 29, 32, 46, 57} <= CAL_ROW_SET
    assert {"2", "3.8", "3.11"} <= CAL_SECTION_SET


@pytest.mark.parametrize("bad", [
    "see /work/shared/domain/calibration.md", "../shared/realdata/x.prom", "kubelet-facts.md §1",
    "facts §9.9", "facts §1.2, §7.7", "facts §1.3-1.99", "cal. row 11", "cal. rows 32-36",
    "cal. §3.1", "realdata 1.99", "as NOTES.md says", "(kubelet-facts.md)",
])
def test_the_scan_catches_a_bad_citation(bad):
    assert citation_problems(ROOT / "simulator" / "x.py", bad)


@pytest.mark.parametrize("good", [
    "facts §0 / §1.10; cal. row 45", "facts §1.3-1.4, §1.6-1.7", "facts §2.2 step 6", "cal. §3.11",
    "realdata 1.21 exec_sync", "see docs/facts.md and README.md", "facts §N = a section",
    "containernetworking/cni SPEC.md", "kubernetes/kubernetes@32ac1c9073:CHANGELOG-1.10.md",
])
def test_the_scan_passes_a_good_citation(good):
    assert citation_problems(ROOT / "simulator" / "x.py", good) == []


def test_a_markdown_link_must_stay_inside_the_repository():
    assert citation_problems(ROOT / "docs" / "x.md", "[a](../../outside.md)")
    assert citation_problems(ROOT / "docs" / "x.md", "[a](facts.md#1-x) [b](https://example.org)") == []


def test_every_shipped_citation_resolves_inside_the_repository():
    files = shipped_files()
    assert len(files) > 100
    problems = [p for f in files for p in citation_problems(f, f.read_text(errors="replace"))]
    assert not problems, "\n".join(problems)
