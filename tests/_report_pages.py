"""Reading a written report page in tests: its links, ids, syllable cards and tables.

``check_links`` asserts that the tags are balanced and every link stays inside the report
folder and names a file; ``brute_instances`` counts syllable instances by brute force.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import numpy as np


class Links(HTMLParser):
    """Collect img/video/source src, a href, and the ids and classes of elements."""

    VOID = {"img", "meta", "br", "hr", "input", "link", "source", "col", "wbr"}

    def __init__(self):
        super().__init__()
        self.links, self.ids, self.cards, self.videos, self.tables = [], set(), [], [], 0
        self.stack, self.misnested = [], []

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()
        else:
            self.misnested.append((tag, list(self.stack[-3:])))

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag not in self.VOID:
            self.stack.append(tag)
        if tag in ("img", "video", "source") and "src" in a:
            self.links.append(a["src"])
            if tag == "video":
                self.videos.append(a["src"])
        if tag in ("a", "link") and "href" in a:
            self.links.append(a["href"])
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "div" and a.get("class") == "card" and a.get("id", "").startswith("syllable-"):
            self.cards.append(int(a["id"].split("-")[1]))
        if tag == "table":
            self.tables += 1


def parse(index: Path) -> Links:
    p = Links()
    p.feed(index.read_text(encoding="utf-8"))
    return p


def check_links(index: Path, parsed: Links) -> None:
    """Tags are balanced; every link is relative, stays inside the report folder and names a
    file."""
    assert not parsed.misnested and not parsed.stack, (parsed.misnested[:3], parsed.stack)
    root = index.parent.resolve()
    assert parsed.links, "the report links to nothing"
    for link in parsed.links:
        if link.startswith("#"):
            assert link[1:] in parsed.ids, f"anchor {link} has no target"
            continue
        assert "://" not in link and not link.startswith("/"), f"link {link!r} is not relative"
        target = (index.parent / link).resolve()
        assert root in target.parents, f"link {link!r} leaves the report folder"
        assert target.is_file() and target.stat().st_size > 0, f"link {link!r} names no file"


def brute_instances(labels, K):
    counts = np.zeros(K, dtype=int)
    for z in labels:
        prev = None
        for v in z:
            if v != prev and v >= 0:
                counts[v] += 1
            prev = v
    return counts
