"""What ``ethogram fit|info|report|apply`` say about the Gibbs methods, as a fresh user met them.

An option of another method is refused in one line naming it and what to use instead, only
when typed (defaults pass, and EM gets the same settings as before); the fit's summary,
``ethogram info`` and the report name each method's model and count the keypoint SLDS's AR-only
and full-model sweeps apart, with a log-joint caption true to each method and a movie hint
usable from any folder; ``apply`` on a recording that shares no body part with the model says
so, naming both lists. On the first 300 frames of the open-field mouse with a few sweeps.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from _pose_files import renamed_bodyparts_csv
from ethogram.cli import build_parser, main
from ethogram.errors import ArgumentError

OPENFIELD = "tests/fixtures/openfield/keypoints.csv"
NAMES = ["'snout'", "'leftear'", "'rightear'", "'tailbase'"]


def _error(argv, capsys) -> str:
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("ethogram: error: "), err
    return err[0][len("ethogram: error: ") :]


# ------------------------------------------------------------------ options of another method
REFUSED = {
    "iters-arhmm": (
        ("--method", "gibbs-arhmm", "--iters", "7"),
        "--iters sets EM's iterations; with --method gibbs-arhmm use --gibbs-iters (its sweeps)",
    ),
    "iters-slds": (
        ("--method", "keypoint-slds", "--iters", "0"),  # 0 is typed too
        "--iters sets EM's iterations; with --method keypoint-slds use --gibbs-iters "
        "(full-model sweeps) and --ar-iters (AR-only sweeps)",
    ),
    "iters-abbreviated": (
        ("--method", "gibbs-arhmm", "--iter", "100"),  # argparse's prefix, the default value
        "--iters sets EM's iterations; with --method gibbs-arhmm use --gibbs-iters (its sweeps)",
    ),
    "restarts": (
        ("--method", "keypoint-slds", "--restarts", "3"),
        "--restarts sets EM's independent starts (the best kept); with --method keypoint-slds "
        "drop --restarts (another --seed samples another chain)",
    ),
    "prior-ridge": (
        ("--method", "gibbs-arhmm", "--prior-ridge", "10"),
        "--prior-ridge sets the ridge of EM's AR prior; with --method gibbs-arhmm drop "
        "--prior-ridge (the Gibbs methods use MoSeq's matrix-normal inverse-Wishart prior), or "
        "fit with --method em",
    ),
    "reseed-dead": (
        ("--method", "keypoint-slds", "--reseed-dead"),
        "--reseed-dead re-seeds the states EM stops using; with --method keypoint-slds drop "
        "--reseed-dead, or fit with --method em",
    ),
    "pcs-slds": (
        ("--method", "keypoint-slds", "--pcs", "3"),
        "--pcs sets the number of principal components of --method em and gibbs-arhmm; --method "
        "keypoint-slds chooses its latent pose's dimension itself (the fewest components "
        "explaining 90% of the variance, at most 10): drop --pcs",
    ),
    "variance-slds": (
        ("--method", "keypoint-slds", "--variance", "0.9"),  # the default value, typed
        "--variance sets the share of variance kept by the principal components of --method em "
        "and gibbs-arhmm; --method keypoint-slds chooses its latent pose's dimension itself (the "
        "fewest components explaining 90% of the variance, at most 10): drop --variance",
    ),
    "gibbs-iters-em": (
        ("--gibbs-iters", "5"),
        "--gibbs-iters sets the Gibbs sweeps of --method gibbs-arhmm or keypoint-slds; EM's "
        "iterations are --iters",
    ),
    "ar-iters-em": (
        ("--method", "em", "--ar-iters", "5"),
        "--ar-iters sets the AR-only sweeps of --method keypoint-slds, not of --method em: drop "
        "it, or fit with --method keypoint-slds",
    ),
    "ar-iters-arhmm": (
        ("--method", "gibbs-arhmm", "--ar-iters", "5"),
        "--ar-iters sets the AR-only sweeps of --method keypoint-slds, not of --method "
        "gibbs-arhmm: drop it, or fit with --method keypoint-slds",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_an_option_of_another_method_is_refused_in_one_line(case, tmp_path, capsys, monkeypatch):
    import ethogram.cli.fit as cli_fit

    extra, line = REFUSED[case]
    read = []
    monkeypatch.setattr(cli_fit, "read_inputs", lambda *a, **k: read.append(1))
    msg = _error(["fit", OPENFIELD, "--fps", "30", "-o", tmp_path / "o", *extra], capsys)
    assert msg == line
    assert not read and not (tmp_path / "o").exists()  # refused before reading or writing


def test_demo_refuses_them_too(tmp_path, capsys):
    msg = _error(["demo", "--method", "gibbs-arhmm", "--restarts", "2", "-o", tmp_path], capsys)
    assert msg.startswith("--restarts sets EM's independent starts")
    assert not (tmp_path / "results.h5").exists()


@pytest.mark.parametrize(
    "method, extra",
    [
        ("em", ()),
        ("gibbs-arhmm", ()),
        ("keypoint-slds", ()),
        ("em", ("--iters", "5", "--restarts", "2", "--prior-ridge", "3", "--reseed-dead",
                "--pcs", "2")),
        ("gibbs-arhmm", ("--gibbs-iters", "5", "--variance", "0.8")),
        ("keypoint-slds", ("--gibbs-iters", "5", "--ar-iters", "3")),
    ],
)  # fmt: skip
def test_defaults_and_a_methods_own_options_pass(method, extra):
    from ethogram.cli._fit_options import check_method_options, method_options_given

    args = build_parser().parse_args(["fit", OPENFIELD, "-o", "o", "--method", method, *extra])
    check_method_options(args)  # no error
    assert bool(method_options_given(args)) == bool(extra)


def _em_settings(argv, monkeypatch):
    """The EM settings ``ethogram fit`` hands the library for ``argv``."""
    import ethogram.pipeline as pipeline
    from ethogram.fitting.settings import settings_from_options
    from ethogram.pipeline.fit import _FIT_KEYWORDS, FIT_EM

    seen = {}

    class Stop(Exception):
        pass

    def capture(recordings, **kw):
        seen.update(kw)
        raise Stop

    monkeypatch.setattr(pipeline, "fit_recordings", capture)
    with pytest.raises(Stop):
        main(argv)
    options = {k: v for k, v in seen.items() if k in _FIT_KEYWORDS}
    em = settings_from_options(options, em=seen.get("em") or FIT_EM, accepted=_FIT_KEYWORDS).em
    return em, FIT_EM


def test_em_gets_the_settings_it_had(tmp_path, monkeypatch):
    """``--iters``/``--restarts`` default to None now: EM without them still gets FIT_EM (the
    same bits), and with them what was typed."""
    import dataclasses

    base = ["fit", OPENFIELD, "--fps", "30", "-o", str(tmp_path / "o"), "--quiet", "--debug"]
    em, fit_em = _em_settings(base, monkeypatch)
    assert em == fit_em and (em.num_iters, em.num_restarts, em.reseed_dead) == (100, 1, False)
    typed = [*base, "--iters", "7", "--restarts", "2", "--reseed-dead"]
    em, fit_em = _em_settings(typed, monkeypatch)
    assert em == dataclasses.replace(fit_em, num_iters=7, num_restarts=2, reseed_dead=True)


def test_the_library_refuses_them_in_python_words():
    from ethogram.fitting import EMSettings
    from ethogram.io import read_recordings
    from ethogram.pipeline import fit_recordings
    from ethogram.prep import Preparation

    recs = read_recordings(OPENFIELD, fps=30)
    cases = [
        (dict(method="gibbs-arhmm", num_iters=50), "num_iters",
         "num_iters sets EM's iterations; with method=gibbs-arhmm use gibbs_iters (its sweeps)"),
        (dict(method="keypoint-slds", em=EMSettings()), "em",
         "em holds EM's settings; with method=keypoint-slds drop em; the sweeps are gibbs_iters"),
        (dict(method="gibbs-arhmm", tol=1e-3), "tol",
         "tol sets EM's convergence tolerance; with method=gibbs-arhmm drop tol (a Gibbs fit "
         "runs the sweeps of gibbs_iters)"),
        (dict(method="keypoint-slds", prep=Preparation(num_pcs=2)), "num_pcs", None),
        (dict(gibbs_iters=5), "gibbs_iters", None),
    ]  # fmt: skip
    for kwargs, name, words in cases:
        with pytest.raises(ArgumentError) as exc:
            fit_recordings(recs, progress=False, **kwargs)
        assert name in exc.value.arguments
        assert words is None or str(exc.value) == words


def test_sweeps_in_words():
    from ethogram.pipeline.methods import sweeps_text

    assert sweeps_text({"method": "em"}, {"num_iters": 5}) is None
    assert sweeps_text({"method": "gibbs-arhmm", "ar_iters": 0}, {"sweeps": 500}) == (
        "500 Gibbs sweeps"
    )
    assert sweeps_text({"method": "keypoint-slds", "ar_iters": 50}, {"sweeps": 550}) == (
        "50 AR-only + 500 full-model Gibbs sweeps"
    )


def test_the_movies_argument_is_a_path_usable_anywhere(tmp_path):
    from ethogram.viz._report_files import movies_argument

    assert movies_argument(tmp_path / "fit" / "results.h5") == str(tmp_path / "fit")
    assert movies_argument(tmp_path / "fit.h5") == str(tmp_path / "fit.h5")
    assert movies_argument(tmp_path / "my fit" / "results.h5") == f'"{tmp_path / "my fit"}"'
    assert movies_argument(Path("rel") / "results.h5") == str(Path.cwd() / "rel")


# ------------------------------------------------------------- the words about a fitted model
@pytest.fixture(scope="module")
def fits(tmp_path_factory):
    """Both Gibbs methods fitted from the command line on 300 frames: (folder, summary)."""
    root = tmp_path_factory.mktemp("gibbs_words")
    short = renamed_bodyparts_csv(OPENFIELD, root / "mouse.csv", {}, num_frames=300)
    common = [str(short), "--fps", "30", "--states", "6", "--kappa", "1000", "--quiet"]
    runs = {
        "keypoint-slds": [
            "fit", *common, "--method", "keypoint-slds", "--ar-iters", "2", "--gibbs-iters", "3",
            "-o", str(root / "slds")],
        "gibbs-arhmm": [
            "fit", *common, "--method", "gibbs-arhmm", "--gibbs-iters", "3",
            "-o", str(root / "arhmm" / "arhmm.h5")],
    }  # fmt: skip
    out = {}
    for method, argv in runs.items():
        stdout = io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(io.StringIO()):
            assert main(argv) == 0
        out[method] = (Path(argv[-1]), stdout.getvalue())
    return out


def test_the_fit_summary_counts_the_stages_apart(fits):
    summary = fits["keypoint-slds"][1]
    assert "keypoint-slds: 2 AR-only + 3 full-model Gibbs sweeps, final log joint " in summary
    assert "gibbs-arhmm: 3 Gibbs sweeps, final log joint " in fits["gibbs-arhmm"][1]


def test_info_names_each_model(fits, capsys):
    assert main(["info", str(fits["keypoint-slds"][0])]) == 0
    out = capsys.readouterr().out
    assert "model: keypoint SLDS by Gibbs sampling (keypoint-MoSeq's model), K = 6" in out
    assert "kappa = 1000 (AR-only stage 1e+05), latent pose D = " in out
    assert "fit: 2 AR-only + 3 full-model Gibbs sweeps, final log joint" in out
    assert "sticky AR-HMM" not in out
    assert main(["info", str(fits["gibbs-arhmm"][0])]) == 0
    out = capsys.readouterr().out
    assert "model: sticky HDP-ARHMM by Gibbs sampling (MoSeq's model), K = 6" in out
    assert "fit: 3 Gibbs sweeps, final log joint" in out and "AR-only" not in out


def test_the_report_says_each_methods_model(fits):
    import html as html_lib

    from ethogram.viz.report import write_report

    pages = {}
    for method, (out, _) in fits.items():
        index = write_report(out, progress=False, trajectories=False, overwrite=True)
        pages[method] = html_lib.unescape(index.read_text(encoding="utf-8"))
    slds, arhmm = pages["keypoint-slds"], pages["gibbs-arhmm"]
    assert "Gibbs sampling of the keypoint SLDS" in slds and "shaded: the AR-only stage" in slds
    assert "Gibbs sampling of the sticky HDP-ARHMM" in arhmm
    assert "AR-only" not in arhmm  # it has no such stage
    assert "keypoint-slds: keypoint SLDS by Gibbs sampling (keypoint-MoSeq's model)" in slds
    assert "2 AR-only + 3 full-model Gibbs sweeps; final log joint" in slds
    assert "gibbs-arhmm: sticky HDP-ARHMM by Gibbs sampling (MoSeq's model)" in arhmm
    assert "The keypoint SLDS's latent pose (the last sample" in slds
    # the movie hint names the fit by its full path: its folder, or the file not results.h5
    folder = fits["keypoint-slds"][0].resolve()
    assert f"'ethogram movies {folder}' makes them." in slds
    assert f"'ethogram movies {fits['gibbs-arhmm'][0].resolve()}' makes them." in arhmm


@pytest.mark.parametrize("method", ["keypoint-slds", "gibbs-arhmm"])
def test_apply_to_a_recording_without_the_models_body_parts(method, fits, tmp_path, capsys):
    model = fits[method][0]
    other = {"snout": "nose", "leftear": "earL", "rightear": "earR", "tailbase": "tail"}
    none = renamed_bodyparts_csv(OPENFIELD, tmp_path / "none.csv", other, num_frames=50)
    msg = _error(["apply", model, none, "--fps", "30", "-o", tmp_path / "a", "--quiet"], capsys)
    assert msg == (
        "recording 'none' shares no body part with the preparation's (the model's) training "
        "recordings: it has ['nose', 'earL', 'earR', 'tail'], they had "
        f"[{', '.join(NAMES)}]; if these are the same points under other names, rename them in "
        "the file to the model's, else fit a model on recordings tracked like it"
    )
    some = renamed_bodyparts_csv(OPENFIELD, tmp_path / "some.csv", {"tailbase": "tail"}, 50)
    msg = _error(["apply", model, some, "--fps", "30", "-o", tmp_path / "b", "--quiet"], capsys)
    assert msg == (
        "recording 'some' lacks body part(s) ['tailbase']; it has ['snout', 'leftear', "
        f"'rightear', 'tail'], the preparation's training recordings had [{', '.join(NAMES)}]; "
        "fit the model again with 'ethogram fit --bodyparts NAMES' to keep the body parts they "
        f"share, [{', '.join(NAMES[:3])}]"
    )
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


@pytest.mark.parametrize("method", ["gibbs-arhmm", "keypoint-slds"])
def test_more_syllables_than_frames_is_refused_before_sampling(method, tmp_path, capsys):
    """As EM refuses it: a fresh user's --states 5000 on 300 frames ran silently for minutes
    and left a 400 MB checkpoint of the kappa search behind."""
    short = renamed_bodyparts_csv(OPENFIELD, tmp_path / "mouse.csv", {}, num_frames=300)
    out = tmp_path / "fit"
    msg = _error(
        ["fit", short, "--fps", "30", "--method", method, "--states", "5000", "-o", out], capsys
    )
    # the SLDS keeps every frame; the ARHMM's preparation keeps the frames with every point
    # above the confidence threshold (263 of these 300)
    usable = 300 if method == "keypoint-slds" else 263
    assert msg == (
        f"5,000 syllables but only {usable} usable frames: each syllable needs frames to be "
        "learned from; lower --states K (a few dozen is usual)"
    )
    assert not out.exists()
