"""Run the floor's benchmarks side by side in one session and update BENCHMARKS.md.

``make bench`` (or ``.venv/bin/python bench/run_all.py`` from the project root) writes a header
with the machine, library versions, the OpenBLAS kernel that ran and the thread settings, each
section's medians with the ratio to ethogram measured in the same run, and ``### Change since
the floor's first run`` against ``bench/floor_2026-11-24.json``. BENCHMARKS.md is shared: this
script rewrites only the header (everything before the first ``## `` heading) and its own ``## ``
sections (each up to the next ``## `` heading), and keeps every other section as it is, in place.
"""

from __future__ import annotations

import _util  # noqa: F401  (pins threads before numpy is imported)

# isort: split

import json
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
FLOOR = pathlib.Path(__file__).resolve().parent / "floor_2026-11-24.json"
#: rows renamed since the floor's run: (heading, row) now -> (heading, row) then
RENAMED = {
    (
        "ARHMM, 50 EM iterations end to end (fresh process: import, compile, initialise, fit)",
        "ethogram (one k-means start, as in the first run; numba cache warm)",
    ): (
        "ARHMM, 50 EM iterations end to end (fresh process: import, compile, initialise, fit)",
        "ethogram (k-means initialisation, numba cache warm)",
    ),
}
_UNITS = {"ms": 1e-3, "s": 1.0, "MiB": 1.0}
_REFERENCE = ("hmmlearn", "dynamax", "numpy")


# ---------------------------------------------------------------------- sections
def split_sections(text: str) -> tuple[str, list[tuple[str, str]]]:
    """Markdown text -> (header, [(``## `` heading line, section text), ...]).

    A section runs from its ``## `` heading to the next one (``### `` headings stay inside);
    lines inside code fences are never headings.
    """
    header, sections = [], []
    fence = False
    for line in text.splitlines(keepends=True):
        if line.lstrip().startswith("```"):
            fence = not fence
        if not fence and line.startswith("## "):
            sections.append([line.rstrip("\n"), [line]])
        elif sections:
            sections[-1][1].append(line)
        else:
            header.append(line)
    return "".join(header), [(h, "".join(body)) for h, body in sections]


def merge(old: str, header: str, generated: list[str]) -> str:
    """The new file: ``header``, then the old sections with the generated ones replaced.

    ``generated`` are section texts, each starting with its ``## `` heading. They take the
    place of the first old section they replace (all of them together, in their own order);
    on a file without any of them they come first. Every other old section is kept verbatim.
    """
    gen_heads = {split_sections(g)[1][0][0] for g in generated}
    _, sections = split_sections(old)
    out, placed = [header.rstrip("\n") + "\n\n"], False
    for head, body in sections:
        if head in gen_heads:
            if not placed:
                out += [g.rstrip("\n") + "\n\n" for g in generated]
                placed = True
            continue
        out.append(body.rstrip("\n") + "\n\n")
    if not placed:
        out[1:1] = [g.rstrip("\n") + "\n\n" for g in generated]
    return "".join(out).rstrip("\n") + "\n"


# ---------------------------------------------------------------------- comparison
def timed_cells(text: str) -> dict:
    """Every timed cell of the markdown tables (and the memory line) of ``text``.

    Returns ``{"heading | row | column": [value, unit]}`` with ``heading`` the nearest
    ``##``/``###`` title, ``row`` the first cell of the table row and ``column`` the header
    of the cell's column; ``value`` is in seconds for cells such as ``41.8 ms`` or ``14.0 s``
    (``unit`` the one written, for display) and in MiB for the peak memory of
    ``forward_backward``.
    """
    out, heading, columns = {}, "", None
    for line in text.splitlines():
        if line.startswith("#"):
            heading, columns = line.lstrip("#").strip(), None
            continue
        mem = re.match(r"Peak allocation during `forward_backward`: ([\d.]+) MiB", line)
        if mem:
            out[f"{heading} | forward_backward | peak allocation"] = [float(mem.group(1)), "MiB"]
        if not line.startswith("|"):
            columns = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if columns is None:
            columns = cells
            continue
        if set("".join(cells)) <= set("-: "):
            continue
        for col, cell in zip(columns[1:], cells[1:]):
            m = re.match(r"([\d.]+) (ms|s)(?: \(|$)", cell)
            if m:
                out[f"{heading} | {cells[0]} | {col}"] = [
                    float(m.group(1)) * _UNITS[m.group(2)],
                    m.group(2),
                ]
    return out


def _fmt(value: float, unit: str) -> str:
    if unit == "MiB":
        return f"{value:.1f} MiB"
    if unit == "s":
        return f"{value:.1f} s"
    return f"{value * 1e3:.1f} ms" if value < 0.1 else f"{value * 1e3:.0f} ms"


def change_since_floor(new_text: str, floor: dict, versions: dict) -> list[str]:
    """``### Change since the floor's first run``: old and new value and their ratio per cell.

    ``floor`` is the content of ``bench/floor_2026-11-24.json``; ``versions`` the library
    versions of this run (any that differ from the floor's are named).
    """
    new = timed_cells(new_text)
    renamed = {" | ".join(k): " | ".join(v) for k, v in RENAMED.items()}
    rows, ours, ref = [], [], []
    for key, (value, unit) in new.items():
        head, row, col = key.split(" | ", 2)
        then = floor["cells"].get(key) or floor["cells"].get(
            f"{renamed.get(f'{head} | {row}', f'{head} | {row}')} | {col}"
        )
        if then is None:
            continue
        ratio = value / then[0]
        label = f"{row} — {col}" if col not in ("median", "time", "peak allocation") else row
        short = re.split(r"[,(]", head)[0].strip()
        rows.append(
            f"| {short} | {label} | {_fmt(then[0], unit)} | {_fmt(value, unit)} | {ratio:.2f} |"
        )
        who = (row + " " + col).lower()
        if unit != "MiB" and "first call" not in head.lower():
            (ref if any(r in who for r in _REFERENCE) and "ethogram" not in who else ours).append(
                ratio
            )
    if not rows:
        return []
    import numpy as np

    changed = [
        f"{k} {floor['versions'][k]} -> {v}"
        for k, v in versions.items()
        if floor["versions"].get(k, v) != v
    ]
    same = (
        ("Library versions differ from then: " + "; ".join(changed) + ".")
        if changed
        else (
            "Same library versions as then, so the reference libraries' rows measure how busy "
            "the shared machine was."
        )
    )
    lines = [
        "### Change since the floor's first run",
        "",
        f"Every timed cell of the sections above against the first run ({floor['date']}, commit "
        f"{floor['commit']}); ratio = now / then, so above 1 is slower. {same} Recorded numbers "
        "from another day carry that day's load: a row that looks slower, or that matters, is "
        "checked with `bench/bench_versions.py REV` (both versions in alternating fresh "
        "processes).",
        "",
        "| section | row | then | now | ratio |",
        "|---|---|---|---|---|",
        *rows,
        "",
    ]
    if ours and ref:
        lines.append(
            f"Median ratio of ethogram's rows: {np.median(ours):.2f} ({len(ours)} cells); of the "
            "reference "
            f"libraries' rows (hmmlearn, dynamax, NumPy): {np.median(ref):.2f} ({len(ref)} cells)."
        )
    return lines


# ---------------------------------------------------------------------- main
def header_lines(info: dict) -> list[str]:
    return [
        "# Benchmarks",
        "",
        "Regenerate with `make bench` (rewrites the header and the sections `bench/run_all.py`",
        "generates; other sections are kept). Medians over repeats in one run; ratios are measured",
        "side by side in that run. Everything runs on one thread unless a row says otherwise (the",
        "batch rows use ethogram's own thread pool).",
        "",
        f"- machine: {info['cpu']}, {info['cores']} cores; date {info['date']}",
        f"- python {info['python']}; " + ", ".join(f"{k} {v}" for k, v in info["versions"].items()),
        f"- BLAS (threadpoolctl: library, version, kernel that ran, threads): {info['blas']}",
        f"- thread settings: `{json.dumps(info['threads'])}`",
        "",
    ]


def main() -> None:
    import bench_engine
    import bench_models
    from _util import machine

    info = machine()
    engine = bench_engine.main()
    models = bench_models.main()
    floor = json.loads(FLOOR.read_text())
    models += [""] + change_since_floor("\n".join(engine + models), floor, info["versions"])
    path = ROOT / "BENCHMARKS.md"
    old = path.read_text() if path.exists() else ""
    text = merge(old, "\n".join(header_lines(info)), ["\n".join(engine), "\n".join(models)])
    path.write_text(text)
    print(text)


if __name__ == "__main__":
    from _cli import no_options

    no_options(__doc__)
    main()
