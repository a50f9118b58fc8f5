"""The default kappa before and after issue 15: what it gives and what it costs.

Before: ``kappa = (0.4 s x fps - 1) x usable frames / K`` (``ethogram.stickiness.reference_kappa``);
after: the smallest kappa whose fit gives a median syllable of at least 90% of 0.4 s, kappa 0
when the fit without stickiness does (``ethogram.stickiness.smallest_kappa``). Both rules run in
this process on the same code and one thread, on ``fit_recordings``, ``cross_validate`` and
sticky synthetic HMMs, so the difference is the rule alone; ``--write`` puts the tables in
BENCHMARKS.md, "Default kappa". The experiments and how to run them: ``--help``.
"""

from __future__ import annotations

import os

for _var in (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "ETHOGRAM_NUM_THREADS",
    "NUMBA_NUM_THREADS",
):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
SECTION = "## Default kappa"
SELECT_STATES = [5, 10, 15, 20, 30, 40, 60]
SYNTHETIC_STATES = [2, 3, 4, 5, 6, 8, 10]


def _recordings(name):
    from ethogram.io import read_recordings

    if name == "open field":
        return read_recordings([str(DATA / "openfield" / "keypoints.csv")], format="dlc", fps=30.0)
    return read_recordings([str(DATA / "flies" / "clip.slp")], fps=25.0)


def _old_kappa(recs, K=20):
    """The old default of ``fit_recordings``: the reference kappa of the usable frames."""
    from ethogram.prep import Preparation, model_inputs
    from ethogram.stickiness import reference_kappa

    sequences, masks, fps = model_inputs(Preparation().fit_transform(recs))
    usable = int(sum(m.sum() for m in masks))
    return reference_kappa(usable, K, 0.4 * float(np.median(fps)))


def _timed(fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def bench_fit(rounds: int) -> list:
    """Per data set and rule: median seconds, fits, kappa, median syllable."""
    from ethogram.pipeline import fit_recordings
    from ethogram.stickiness import median_run_length

    rows = []
    for name in ("open field", "flies"):
        recs = _recordings(name)
        old = _old_kappa(recs)
        fit_recordings(
            recs, num_iters=3, progress=False, kappa=old
        )  # warm-up: numba cache, imports
        runs = {"before": [], "after": []}
        for _ in range(rounds):
            for rule, kw in (("before", {"kappa": old}), ("after", {})):
                res, wall, cpu = _timed(lambda: fit_recordings(recs, progress=False, seed=0, **kw))
                runs[rule].append((res, wall, cpu))
        for rule, got in runs.items():
            res = got[0][0]
            fps = float(np.median(list(res.fps().values())))
            rows.append(
                {
                    "data": name,
                    "rule": rule,
                    "wall": float(np.median([g[1] for g in got])),
                    "cpu": float(np.median([g[2] for g in got])),
                    "fits": len(res.config.get("kappa_search", [None])),
                    "kappa": res.config["kappa_used"],
                    "median_ms": 1000 * median_run_length(list(res.syllables().values())) / fps,
                    "curve": res.config.get("kappa_search"),
                }
            )
            print({k: v for k, v in rows[-1].items() if k != "curve"}, file=sys.stderr, flush=True)
    return rows


def _select_inputs(recs):
    from ethogram.prep import Preparation, model_inputs

    sequences, masks, fps = model_inputs(Preparation().fit_transform(recs))
    return sequences, masks, float(np.median(fps))


def bench_select(rounds: int) -> list:
    """Per data set and rule: seconds of ``cross_validate`` as ``select`` runs it, its choice."""
    from ethogram.pipeline import SYLLABLE_PRIOR
    from ethogram.selection import cross_validate
    from ethogram.stickiness import reference_kappa

    rows = []
    for name in ("open field", "flies"):
        sequences, masks, fps = _select_inputs(_recordings(name))
        usable = int(sum(m.sum() for m in masks))
        common = dict(
            model="arhmm",
            observation_kwargs={"num_lags": 3, **SYLLABLE_PRIOR},
            mask=masks,
            num_restarts=3,
            seed=0,
            num_workers=1,
        )
        for rule, kappa in (
            ("before", lambda K: reference_kappa(usable, K, 0.4 * fps)),
            ("after", "auto"),
        ):
            got = [
                _timed(
                    lambda: cross_validate(sequences, SELECT_STATES, kappa=kappa, fps=fps, **common)
                )
                for _ in range(rounds)
            ]
            cv = got[0][0]
            s = cv.summary.set_index("num_states")
            kappas = (
                {K: v["kappa"] for (K, f), v in sorted(cv.kappa_searches.items())}
                if cv.kappa_searches
                else {K: kappa(K) for K in SELECT_STATES}
            )
            reached = (
                {K: v["reached"] for (K, f), v in cv.kappa_searches.items()}
                if cv.kappa_searches
                else {}
            )
            rows.append(
                {
                    "data": name,
                    "rule": rule,
                    "wall": float(np.median([g[1] for g in got])),
                    "cpu": float(np.median([g[2] for g in got])),
                    "best": cv.best_num_states,
                    "one_se": cv.one_se_num_states,
                    "heldout": {K: float(s.loc[K, "mean"]) for K in SELECT_STATES},
                    "kappas": kappas,
                    "reached": reached,
                }
            )
            print(rows[-1], file=sys.stderr, flush=True)
    return rows


def bench_synthetic() -> list:
    """Issue 15's new user, and an ARHMM: the K chosen and the held-out score under each rule."""
    sys.path.insert(0, str(ROOT / "tests"))
    from _sticky_hmms import ar_recordings, gaussian_recordings
    from ethogram.pipeline import SYLLABLE_PRIOR
    from ethogram.selection import cross_validate
    from ethogram.stickiness import reference_kappa

    rows = []
    cases = (
        (
            "Gaussian, 5 states, 3 x 3000 frames",
            "gaussian",
            {},
            gaussian_recordings(0, num_recordings=3, num_frames=3000),
            5,
        ),
        (
            "AR(1), 4 states, 3 x 3000 frames",
            "arhmm",
            {"num_lags": 3, **SYLLABLE_PRIOR},
            ar_recordings(0, num_recordings=3, num_frames=3000),
            4,
        ),
    )
    for label, model, obs, sequences, true_K in cases:
        x = np.concatenate(sequences)
        sequences = [
            (d - x.mean(0)) / x.std(0) for d in sequences
        ]  # as the preparation standardizes features
        usable = 0.8 * x.shape[0]
        for rule, kappa in (
            ("before", lambda K: reference_kappa(usable, K, 12.0)),
            ("after", "auto"),
            ("kappa 0", 0.0),
        ):
            cv, wall, cpu = _timed(
                lambda: cross_validate(
                    sequences,
                    SYNTHETIC_STATES,
                    model=model,
                    observation_kwargs=obs,
                    kappa=kappa,
                    fps=30.0,
                    num_restarts=3,
                    seed=0,
                    num_workers=1,
                )
            )
            s = cv.summary.set_index("num_states")
            rows.append(
                {
                    "case": label,
                    "rule": rule,
                    "best": cv.best_num_states,
                    "one_se": cv.one_se_num_states,
                    "true": true_K,
                    "heldout_true": float(s.loc[true_K, "mean"]),
                    "cpu": cpu,
                    "kappa_true": float(
                        cv.table.loc[cv.table.num_states == true_K, "kappa"].iloc[0]
                    ),
                }
            )
            print(rows[-1], file=sys.stderr, flush=True)
    return rows


def _fmt_curve(curve) -> str:
    return ", ".join(f"{r['kappa']:.3g} -> {r['median_duration']:g}" for r in curve)


def _row(*cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _ratio(r, by) -> str:
    return f"{r['cpu'] / by[(r['data'], 'before')]['cpu']:.1f}x" if r["rule"] == "after" else ""


def _header(info) -> str:
    git = ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]
    commit = subprocess.run(git, capture_output=True, text=True).stdout.strip()
    v = info["versions"]
    return (
        f"Generated by `bench/bench_default_kappa.py` ({info['date']}, commit {commit}; "
        f"{info['cpu']}, {info['cores']} cores shared with other work; Python {info['python']}, "
        f"numpy {v['numpy']}, scipy {v['scipy']}, numba {v['numba']}, scikit-learn "
        f"{v['scikit-learn']}; one thread: ETHOGRAM_NUM_THREADS=1, {info['blas']}). Before: "
        "`kappa = (0.4 s x fps - 1) x usable frames / K` (now "
        "`ethogram.stickiness.reference_kappa`); after: the smallest kappa whose fit gives a "
        "median syllable of at least 90% of 0.4 s, kappa 0 when the fit without stickiness does "
        "(`ethogram.stickiness`). Same code, same process, only the rule differs (the "
        "one-standard-error K of both uses the paired standard error of "
        "`ethogram.selection.crossval.paired_se`)."
    )


def _fit_table(fit_rows, rounds) -> list:
    lines = [
        f"### `fit_recordings` with its defaults (K = 20; medians of {rounds} alternating rounds)",
        "",
        _row(
            "data",
            "rule",
            "fits",
            "kappa",
            "median syllable",
            "wall s",
            "CPU s",
            "CPU after / before",
        ),
        _row(*["---"] * 8),
    ]
    by = {(r["data"], r["rule"]): r for r in fit_rows}
    for r in fit_rows:
        lines.append(
            _row(
                r["data"],
                r["rule"],
                r["fits"],
                f"{r['kappa']:.4g}",
                f"{r['median_ms']:.0f} ms",
                f"{r['wall']:.2f}",
                f"{r['cpu']:.2f}",
                _ratio(r, by),
            )
        )
    lines.append("")
    for r in fit_rows:
        if r["curve"]:
            lines.append(
                f"Search on the {r['data']} (kappa -> median frames, in the order fitted): "
                f"{_fmt_curve(r['curve'])}."
            )
    return lines


def _select_table(select_rows, select_rounds) -> list:
    rounds = f"{select_rounds} round{'s' if select_rounds > 1 else ''}"
    lines = [
        f"### `ethogram select` with its defaults (K in {', '.join(map(str, SELECT_STATES))}, "
        f"3 restarts, one worker; {rounds})",
        "",
        _row(
            "data",
            "rule",
            "wall s",
            "CPU s",
            "CPU after / before",
            "best K",
            "one-SE K",
            "kappa per K",
        ),
        _row(*["---"] * 8),
    ]
    by = {(r["data"], r["rule"]): r for r in select_rows}
    for r in select_rows:
        ks = ", ".join(
            f"{K}: {k:.3g}{'' if r['reached'].get(K, True) else ' (missed)'}"
            for K, k in r["kappas"].items()
        )
        lines.append(
            _row(
                r["data"],
                r["rule"],
                f"{r['wall']:.0f}",
                f"{r['cpu']:.0f}",
                _ratio(r, by),
                r["best"],
                r["one_se"],
                ks,
            )
        )
    lines += ["", "Held-out log-likelihood per frame by K (before / after):", ""]
    for name in ("open field", "flies"):
        b, a = by.get((name, "before")), by.get((name, "after"))
        if b and a:
            scores = (
                f"K = {K}: {b['heldout'][K]:.3f} / {a['heldout'][K]:.3f}" for K in SELECT_STATES
            )
            lines.append(f"- {name}: " + "; ".join(scores))
    return lines


def _synthetic_table(synth_rows) -> list:
    lines = [
        "### Sticky synthetic HMMs (generating seed 0; `cross_validate` as `select` runs it)",
        "",
        _row(
            "data",
            "rule",
            "best K",
            "one-SE K",
            "true K",
            "kappa at the true K",
            "held-out at the true K",
            "CPU s",
        ),
        _row(*["---"] * 8),
    ]
    for r in synth_rows:
        lines.append(
            _row(
                r["case"],
                r["rule"],
                r["best"],
                r["one_se"],
                r["true"],
                f"{r['kappa_true']:.4g}",
                f"{r['heldout_true']:.4f}",
                f"{r['cpu']:.0f}",
            )
        )
    return lines


def report(fit_rows, select_rows, synth_rows, info, rounds, select_rounds) -> str:
    """The section's Markdown."""
    lines = [SECTION, "", _header(info), ""]
    lines += _fit_table(fit_rows, rounds) + [""]
    if select_rows:
        lines += _select_table(select_rows, select_rounds) + [""]
    lines += _synthetic_table(synth_rows)
    return "\n".join(lines) + "\n"


_HELP = """\
Before: `kappa = (0.4 s x fps - 1) x usable frames / K` (`ethogram.stickiness.reference_kappa`).
After: the smallest kappa whose fit gives a median syllable of at least 90% of 0.4 s, kappa 0
when the fit without stickiness does (`ethogram.stickiness.smallest_kappa`). Both run in this
process on the same code, one thread (`ETHOGRAM_NUM_THREADS=1`, one BLAS thread), so the
difference is the rule alone:

- `fit`: `fit_recordings` with its defaults (K = 20, 3 lags, up to 100 EM iterations,
  seed 0) on the open-field mouse (`../shared/data/openfield/keypoints.csv`, the same
  DeepLabCut file ethogram ships, 2330 frames at 30 fps) and the flies
  (`../shared/data/flies/clip.slp`, 2 flies x 1500 frames at 25 fps); the two rules
  alternate over `--rounds` rounds and medians are kept (wall and CPU seconds of the whole
  call; the machine is shared, CPU time is less disturbed by others' work).
- `select`: `cross_validate` as `ethogram select` runs it with its defaults (K in
  5, 10, 15, 20, 30, 40, 60; 3 restarts; last 20% of every recording held out; the fit's AR
  prior), one worker process, one round per rule (`--select-rounds`).
- synthetic: issue 15's new user (three recordings of 3000 frames from a 5-state Gaussian HMM,
  self-transition 0.96, means 2.5 apart, variance 0.5; K in 2, 3, 4, 5, 6, 8, 10) and a 4-state
  ARHMM of the same stickiness (`tests/_sticky_hmms.py`), generating seed 0.

Run: `.venv/bin/python bench/bench_default_kappa.py --write` (`--write` replaces or appends
the section "## Default kappa" of BENCHMARKS.md).
"""


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--select-rounds", type=int, default=1)
    parser.add_argument("--skip-select", action="store_true")
    parser.add_argument("--write", action="store_true", help="write the section into BENCHMARKS.md")
    args = parser.parse_args()
    if not DATA.exists():
        print(f"shared data not found at {DATA}", file=sys.stderr)
        return 1
    sys.path.insert(0, str(ROOT / "bench"))
    from _util import machine

    info = machine()
    fit_rows = bench_fit(args.rounds)
    select_rows = [] if args.skip_select else bench_select(args.select_rounds)
    synth_rows = bench_synthetic()
    text = report(fit_rows, select_rows, synth_rows, info, args.rounds, args.select_rounds)
    print(text)
    if args.write:
        from _sections import replace_section

        replace_section(ROOT / "BENCHMARKS.md", SECTION, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
