"""Writing one section of BENCHMARKS.md and leaving every other section as it is.

Each benchmark script owns a ``## `` section (or a ``### `` subsection of a shared one) and
regenerates only that part, so scripts run at different times never erase each other's tables.
"""

from __future__ import annotations

from pathlib import Path


def _span(text: str, heading: str, level: str) -> tuple[int, int] | None:
    """Start and end of ``heading``'s block in ``text`` (up to the next heading of ``level``)."""
    key = heading + "\n"
    if text.startswith(key):
        start = 0
    else:
        at = text.find("\n" + key)
        if at < 0:
            return None
        start = at + 1
    nxt = text.find("\n" + level, start + len(heading))
    return start, (len(text) if nxt < 0 else nxt + 1)


def replace_section(path: Path, section: str, text: str) -> None:
    """Replace the ``## section`` block of ``path`` by ``text`` (which starts with the heading).

    Appends it when ``path`` has no such section.
    """
    old = path.read_text() if path.exists() else ""
    span = _span(old, section, "## ")
    if span is None:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        new = old[: span[0]] + text + old[span[1] :]
    path.write_text(new)


def replace_subsection(path: Path, section: str, sub: str, text: str) -> None:
    """Replace (or add) the ``### sub`` block inside ``## section`` of ``path`` by ``text``."""
    old = path.read_text() if path.exists() else "# Benchmarks\n"
    span = _span(old, section, "## ")
    if span is None:
        path.write_text(old.rstrip("\n") + f"\n\n{section}\n\n" + text)
        return
    block = old[span[0] : span[1]]
    inner = _span(block, sub, "### ")
    if inner is None:
        block = block.rstrip("\n") + "\n\n" + text + "\n"
    else:
        s, e = inner
        block = block[:s] + text + ("\n" if e < len(block) else "") + block[e:]
    path.write_text(old[: span[0]] + block + old[span[1] :])
