"""Run every benchmark side by side in one session and write BENCHMARKS.md.

Usage (from the project root): ``make bench`` or ``.venv/bin/python bench/run_all.py``.
The header records the machine, library versions and thread settings; each section gives
medians and the ratio to ethogram measured in the same run.
"""

from __future__ import annotations

import _util  # noqa: F401  (pins threads before numpy is imported)

import json
import pathlib

import bench_engine
import bench_models
from _util import machine

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main() -> None:
    info = machine()
    lines = [
        "# Benchmarks",
        "",
        "Regenerate with `make bench` (writes this file). Medians over repeats in one run; ratios",
        "are measured side by side in that run. Everything runs on one thread unless a row says",
        "otherwise (the batch rows use ethogram's own thread pool).",
        "",
        f"- machine: {info['cpu']}, {info['cores']} cores; date {info['date']}",
        f"- python {info['python']}; " + ", ".join(f"{k} {v}" for k, v in info["versions"].items()),
        f"- BLAS: {info['blas']}",
        f"- thread settings: `{json.dumps(info['threads'])}`",
        "",
    ]
    lines += bench_engine.main()
    lines += [""]
    lines += bench_models.main()
    text = "\n".join(lines) + "\n"
    (ROOT / "BENCHMARKS.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
