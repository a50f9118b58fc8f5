"""What ``ethogram fit`` prints beyond the syllable table: every restart's final objective and
which was kept, and whether --reseed-dead re-seeded anything."""

from __future__ import annotations

import numpy as np

from ethogram.data import openfield_keypoints
from ethogram.results import load_results

#: a given kappa and 6 states: what is checked is the summary's lines, not the kappa search
#: (its own tests are test_default_kappa.py's) nor 20 syllables' fit
SMALL = ["--kappa", "2000", "--states", "6"]


def test_fit_reports_restarts_and_an_idle_reseed(tmp_path, capsys):
    from ethogram.cli import main

    code = main(
        [
            "fit",
            str(openfield_keypoints()),
            "--fps",
            "30",
            "--iters",
            "5",
            "--restarts",
            "2",
            "--reseed-dead",
            *SMALL,
            "--quiet",
            "-o",
            str(tmp_path / "out"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    fit = load_results(tmp_path / "out" / "results.h5").fit
    objectives, kept = np.asarray(fit["restart_objectives"]), int(fit["chosen_restart"])
    assert kept == int(np.argmax(objectives))
    assert (
        f"restarts: final objectives {objectives[0]:.2f}, {objectives[1]:.2f}; kept restart {kept}"
        in out
    )
    if len(fit.get("reseeds", [])) == 0:
        assert "--reseed-dead: no state died, nothing re-seeded" in out
    else:
        assert "--reseed-dead: " in out and " re-seed" in out


def test_fit_names_the_heading_body_parts_and_whether_they_were_guessed(tmp_path, capsys):
    from ethogram.cli import main

    code = main(
        [
            "fit",
            str(openfield_keypoints()),
            "--fps",
            "30",
            "--iters",
            "3",
            *SMALL,
            "--quiet",
            "-o",
            str(tmp_path / "a"),
        ]
    )
    out = capsys.readouterr().out
    prep = load_results(tmp_path / "a" / "results.h5").preparation
    assert code == 0 and (prep.anterior_, prep.posterior_) == (("snout",), ("tailbase",))
    assert (
        "heading: from tailbase to snout (guessed from the names; --anterior/--posterior); "
        f"{prep.num_inputs} inputs "
        "from 4 body parts"
    ) in out
    code = main(
        [
            "fit",
            str(openfield_keypoints()),
            "--fps",
            "30",
            "--iters",
            "3",
            *SMALL,
            "--quiet",
            "--anterior",
            "leftear,rightear",
            "--posterior",
            "tailbase",
            "-o",
            str(tmp_path / "b"),
        ]
    )
    out = capsys.readouterr().out
    assert (
        code == 0 and "heading: from tailbase to leftear+rightear;" in out and "guessed" not in out
    )
