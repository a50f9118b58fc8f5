"""Measurement study: the strength of the ridge prior on the AR weights, on real recordings.

For the lead, who chooses the default: which ridge ``r`` on the centred AR weights (relative to
each input's variance, like ``DEFAULT_RELATIVE_PRIOR``) generalises best, and does it make kappa
act on syllable durations? The pipeline's sticky AR-HMM is fitted on time folds of the shipped
and shared recordings for every ``r`` in ``RIDGES``, kappa and seed (held-out and training
log-likelihood per frame, syllable durations, fit time), with a side study of the noise prior;
nothing in ``src/`` is changed here. The protocol, the outputs and how to run it: ``--help``.
"""

from __future__ import annotations

import _one_thread  # noqa: F401  (pins threads before numpy is imported)

# isort: split

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from _ar_prior_fits import DEFAULT_K, KAPPA_FACTORS, NUM_FOLDS, NUM_LAGS, RIDGES, study
from _ar_prior_report import fold_means, markdown, noise_summary, recommend, summarize

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
#: a hand-written reading below this line of the report is kept when the report is regenerated
READING_MARKER = "<!-- reading: kept when the tables above are regenerated -->"


def datasets() -> dict:
    """Name -> (description, loader returning (recordings, Preparation kwargs))."""
    from ethogram.data import openfield_keypoints
    from ethogram.io import read_recordings

    return {
        "openfield": (
            "open-field mouse, DeepLabCut, 4 body parts, 30 fps (shipped demo data)",
            lambda: (read_recordings(openfield_keypoints(), fps=30), {}),
            openfield_keypoints(),
        ),
        "openfield_4pcs": (
            "the same open-field mouse prepared with num_pcs=4 (issue 9's notes used 4 PCs)",
            lambda: (read_recordings(openfield_keypoints(), fps=30), {"num_pcs": 4}),
            openfield_keypoints(),
        ),
        "flies": (
            "2 flies, SLEAP, 13 nodes, 25 fps (one recording per fly)",
            lambda: (read_recordings(DATA / "flies" / "clip.slp", fps=25), {}),
            DATA / "flies" / "clip.slp",
        ),
        "jabs": (
            "one mouse, JABS pose v2, 12 keypoints, 30 fps",
            lambda: (read_recordings(DATA / "jabs" / "sample_pose_est_v2.h5"), {}),
            DATA / "jabs" / "sample_pose_est_v2.h5",
        ),
        "moseq2_10pcs": (
            "moseq2 depth PC scores of one mouse, first 10 of 50 PCs (moseq2's npcs), 30 fps",
            lambda: (moseq2_recording(), {"num_pcs": 10}),
            DATA / "moseq2" / "test_scores.h5",
        ),
        "moseq2_50pcs": (
            "moseq2 depth PC scores of one mouse, all 50 PCs (ethogram fit's default for "
            "features), 30 fps",
            lambda: (moseq2_recording(), {}),
            DATA / "moseq2" / "test_scores.h5",
        ),
    }


def moseq2_recording() -> list:
    """The first recording of ``moseq2/test_scores.h5`` only: its two uuids hold the same
    900 frames (equal but for one value), and a copy would count every training frame twice."""
    from ethogram.io import read_recordings

    recs = read_recordings(DATA / "moseq2" / "test_scores.h5")
    if len(recs) == 2:
        a, b = (np.asarray(r.data, dtype=np.float64) for r in recs)
        ok = np.isfinite(a).all(axis=1) & np.isfinite(b).all(axis=1)
        if a.shape == b.shape and np.mean(np.all(a[ok] == b[ok], axis=1)) > 0.99:
            return recs[:1]
    return recs


_HELP = """\
Question (for the lead, who chooses the default): which ridge `r` on the centred AR weights
(`observation_kwargs={"prior_ridge": r}` of
`ethogram.models.observations.autoregressive.AutoregressiveObservations`, on inputs
standardized by the application's `ethogram.prep.Preparation`, so that `r` is relative
to each input's variance like today's default `DEFAULT_RELATIVE_PRIOR = 1e-4`) generalises
best, and does it make kappa act on syllable durations? Nothing in `src/` is changed here.

Protocol, for every data set and r in `RIDGES`: prepare the recordings as `ethogram fit`
does (`ethogram.prep.Preparation` with its defaults, fitted on all recordings, which
lets the held-out frames into the PCA and standardization alike for every r; moseq2 depth PCs
also with `num_pcs=10`, moseq2's own setting; at most `MAX_FRAMES` frames per data set),
then `NUM_FOLDS` time folds: fold f holds out the f-th quarter of every recording (masked
during the fit) and trains on the rest. Model: the pipeline's
(`ethogram.pipeline.fit_recordings`) sticky AR-HMM, K = `DEFAULT_NUM_STATES` (20), 3 lags,
at most `DEFAULT_NUM_ITERS` EM iterations, k-means start, kappa = `reference_kappa(training
frames, K, 0.4 s x fps)` (the default kappa until issue 15) and that kappa x10 and x100;
seeds 0, 1, 2 (the same seeds and folds for every r). `fit_recordings` takes no observation
options, so the fit is built here as it builds it, plus `prior_ridge`. Measured per fit:

* held-out log-likelihood per frame: `sum log p(x_t | x_{1:t-1})` over the scored held-out
  frames (the predictive terms of `HMM.score(per_frame=True)`, conditioned on the training
  frames before the block, as `ethogram.selection.cross_validate`'s time split), divided by
  their number; training log-likelihood per frame: `HMM.score` of the training frames over
  the frames the AR model scores;
* Viterbi labels of the training frames: median run length (frames and ms), the number of
  syllables whose own median run is 1 frame, the number of syllables used for more than 0.5%
  of the frames;
* wall time of `HMM.fit` (one thread; the machine is shared, so times are indicative).

Side measurement (`--no-noise` skips it): the inverse-Wishart prior on the noise covariances
(`NOISE_PRIORS` x `NOISE_RIDGES`, kappa x1), which the ridge alone does not replace.
The report's last section, below `READING_MARKER`, is written by hand and kept when the
tables are regenerated.

Usage (from the project root; about 6 minutes on one core)::

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python bench/study_ar_prior.py

`--datasets` picks data sets, `--seeds` the number of seeds, `--out` the stem of the
outputs (default `bench/results/ar_prior`: `.md` and `.json`). Data: the shipped
open-field mouse (`ethogram.data`) and `../shared/data` (flies, JABS, moseq2); a data set
whose files are absent is skipped with a line saying so.
"""


def main() -> int:
    from ethogram.pipeline import DEFAULT_NUM_STATES

    if DEFAULT_NUM_STATES != DEFAULT_K:
        raise SystemExit(f"the pipeline's K is now {DEFAULT_NUM_STATES}: update DEFAULT_K")
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    all_sets = datasets()
    parser.add_argument("--datasets", nargs="+", default=list(all_sets), choices=list(all_sets))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--no-noise", action="store_true", help="skip the side measurement of the noise prior"
    )
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "ar_prior"))
    args = parser.parse_args()
    t_start = time.perf_counter()
    results = []
    for name in args.datasets:
        desc, loader, path = all_sets[name]
        if not Path(path).exists():
            print(f"skipping {name}: {path} is absent", file=sys.stderr)
            continue
        res = study(
            name,
            loader,
            DEFAULT_NUM_STATES,
            args.seeds,
            lambda s: print(s, file=sys.stderr, flush=True),
            noise=not args.no_noise,
        )
        res["description"] = desc
        results.append(res)
    if not results:
        print("no data set found", file=sys.stderr)
        return 1
    rec = recommend(results)
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    meta = {
        "date": time.strftime("%Y-%m-%d"),
        "commit": commit or "?",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}",
        "K": DEFAULT_NUM_STATES,
        "seeds": args.seeds,
        "ridges": list(RIDGES),
        "kappa_factors": list(KAPPA_FACTORS),
        "num_folds": NUM_FOLDS,
        "num_lags": NUM_LAGS,
        "total_seconds": time.perf_counter() - t_start,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    text = markdown(results, rec, meta)
    summary = [
        {k: v for k, v in res.items() if k not in ("rows", "noise_rows")}
        | {
            "by_ridge": summarize(res),
            "heldout_by_fold": fold_means(res, "heldout_ll_per_frame").tolist(),
            "noise_prior": {
                label: {
                    f"{r:g}": dict(
                        zip(("heldout_ll_per_frame", "median_duration_frames", "used_syllables"), v)
                    )
                    for r, v in cells.items()
                }
                for label, cells in noise_summary(res).items()
            },
        }
        for res in results
    ]  # per-fit rows are not kept: rerun the script for them
    out.with_suffix(".json").write_text(
        json.dumps({"meta": meta, "datasets": summary, "recommendation": rec}, indent=1)
    )
    md = out.with_suffix(".md")
    reading = ""
    if md.exists() and READING_MARKER in md.read_text():
        reading = md.read_text().split(READING_MARKER, 1)[1]
    md.write_text(text + "\n" + READING_MARKER + (reading or "\n"))
    print(
        f"wrote {out.with_suffix('.md')} and .json ({meta['total_seconds']:.0f} s)", file=sys.stderr
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
