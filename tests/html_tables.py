"""The tables of an HTML page, read with the standard library's parser (no lxml needed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class ParsedTable:
    id: str
    caption: str = ""
    head: list[list[str]] = field(default_factory=list)  # rows of <thead>
    body: list[list[str]] = field(default_factory=list)  # rows of <tbody>

    @property
    def headers(self) -> list[str]:
        return self.head[0] if self.head else []

    def row(self, label: str) -> list[str]:
        """The body row whose first cell is ``label``."""
        return next(r for r in self.body if r and r[0] == label)


class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: list[ParsedTable] = []
        self.pre: list[str] = []
        self._part: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._caption: list[str] | None = None
        self._in_pre = False

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append(ParsedTable(dict(attrs).get("id") or ""))
        elif tag in ("thead", "tbody"):
            self._part = tag
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "caption":
            self._caption = []
        elif tag == "pre":
            self._in_pre = True
            self.pre.append("")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            table = self.tables[-1]
            (table.head if self._part == "thead" else table.body).append(self._row)
            self._row = None
        elif tag in ("thead", "tbody"):
            self._part = None
        elif tag == "caption" and self._caption is not None:
            self.tables[-1].caption = " ".join("".join(self._caption).split())
            self._caption = None
        elif tag == "pre":
            self._in_pre = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._caption is not None:
            self._caption.append(data)
        if self._in_pre:
            self.pre[-1] += data


def parse_tables(page: str) -> tuple[dict[str, ParsedTable], list[str]]:
    """The page's tables by id, and the text of its ``<pre>`` blocks."""
    parser = _Tables()
    parser.feed(page)
    return {t.id: t for t in parser.tables}, parser.pre
