"""A fresh user's bad inputs get one line naming the argument and its fix, in the command's words.

Each case a user's trial of ``ethogram`` found misleading: a recording given as apply's model
(looked into as a folder), a file read as a format it is not (the reader library's words), more
``--pcs`` than components (no fix), ``--confidence``'s "None" (which the command refuses), an
option a subcommand lacks (pointing to the top ``--help``), and the kappa search's remedy
("prior_ridge in fit_recordings" on the command line). Each is one line ``ethogram: error:``,
exit code 2, nothing written; the library keeps its Python words.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import DATA
from ethogram.cli import main
from ethogram.cli._common import warning_line
from ethogram.cli._errors import error_line, option_names
from ethogram.errors import ArgumentError
from ethogram.io.formats import FORMATS

KEYPOINTS = DATA / "openfield" / "keypoints.csv"
JABS = DATA / "jabs" / "sample_pose_est_v3.h5"


def _error(argv, capsys) -> str:
    code = main([str(a) for a in argv])
    cap = capsys.readouterr()
    assert code == 2, cap.err
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ethogram: error: "), cap.err
    return lines[0][len("ethogram: error: ") :]


def test_a_recording_given_as_the_model_is_said_to_be_no_results_file(tmp_path, capsys):
    out = tmp_path / "out"
    msg = _error(["apply", KEYPOINTS, KEYPOINTS, "-o", out], capsys)
    assert msg == (
        f"RESULTS {str(KEYPOINTS)!r} is a file but not a results file: give the folder "
        "'ethogram fit -o' wrote, or its results .h5 file"
    )
    assert "results.h5" not in msg and not out.exists()
    # the commands that read a fit's results say it of their RESULTS the same way
    msg = _error(["stats", KEYPOINTS, "--groups", tmp_path / "groups.csv"], capsys)
    assert msg.startswith(f"RESULTS {str(KEYPOINTS)!r} is a file but not a results file")


def test_a_file_read_as_another_format_names_its_format_and_the_fix(tmp_path, capsys):
    msg = _error(["fit", JABS, "--format", "sleap", "-o", tmp_path / "a"], capsys)
    assert msg == (
        f"cannot read {JABS} as 'sleap' (by its content it is a 'jabs' file): give --format "
        "jabs, or leave --format out to detect the format"
    )
    msg = _error(["fit", KEYPOINTS, "--format", "jabs", "-o", tmp_path / "b"], capsys)
    assert msg == (
        f"cannot read {KEYPOINTS} as 'jabs' (by its content it is a 'dlc' file): give --format "
        "dlc, or leave --format out to detect the format"
    )
    assert "OSError" not in msg and not list(tmp_path.iterdir())


def test_the_library_says_the_other_format_in_python_and_keeps_a_readers_own_error(tmp_path):
    from ethogram.io import read_file

    with pytest.raises(ArgumentError) as exc:
        read_file(KEYPOINTS, format="jabs")
    assert exc.value.arguments == ("format",)
    assert str(exc.value).endswith("give format=dlc, or format=None to detect the format")
    # a DeepLabCut table read as DeepLabCut that its reader refuses: the reader's error, not a
    # claim that it is another format
    broken = tmp_path / "broken.csv"
    broken.write_text("scorer,a,a\nbodyparts,nose,nose\ncoords,x,y\n0,zz,1\n")
    with pytest.raises(ValueError) as exc:
        read_file(broken, format="dlc")
    assert "by its content" not in str(exc.value)


def test_too_many_pcs_says_how_many_there_are_and_the_fix(tmp_path, capsys):
    argv = ["fit", KEYPOINTS, "--fps", "30", "--pcs", "50", "-o", tmp_path / "fit", "--quiet"]
    msg = _error(argv, capsys)
    assert msg.startswith("--pcs 50 but only 8 components exist (4 body parts x 2 coordinates")
    assert msg.endswith("; give --pcs 8 or fewer, or --variance to keep a fraction of the variance")
    assert not (tmp_path / "fit").exists()


def test_too_many_pcs_of_features_says_the_fix():
    from ethogram.io.recording import Recording
    from ethogram.prep import Preparation

    rec = Recording("r", np.zeros((20, 3)) + np.arange(20.0)[:, None], kind="features", fps=30.0)
    with pytest.raises(ArgumentError) as exc:
        Preparation(num_pcs=5).fit_transform([rec])
    assert str(exc.value).endswith("only 3 feature columns; give num_pcs=3 or fewer")
    assert error_line(exc.value, "fit").endswith("; give --pcs 3 or fewer")


def test_confidence_says_what_the_command_takes(tmp_path, capsys):
    from ethogram.prep import Preparation
    from ethogram.prep.keypoints import mask_low_confidence

    argv = ["fit", KEYPOINTS, "--fps", "30", "--confidence", "2", "-o", tmp_path / "fit"]
    msg = _error(argv, capsys)
    assert msg.startswith("--confidence 2 is above every confidence in recording 'keypoints' (")
    assert "(they range from 0.0923 to 0.998); give a threshold inside that range" in msg
    assert not (tmp_path / "fit").exists()
    argv = ["fit", KEYPOINTS, "--fps", "30", "--confidence", "-1", "-o", tmp_path / "fit"]
    msg = _error(argv, capsys)
    assert msg == (
        "--confidence must be a finite number >= 0 (points with a lower confidence become "
        "missing; --confidence 0 keeps every point), got -1.0"
    )
    assert "None" not in msg and not (tmp_path / "fit").exists()
    # what it says is true: 0 keeps every point, as None does
    coords, conf = np.ones((3, 2, 2)), np.array([[0.0, 0.5], [0.1, 1.0], [0.0, 0.0]])
    assert np.array_equal(mask_low_confidence(coords, conf, 0.0), coords)
    # the library says None, its own value; apply, without --confidence, has no words for it
    with pytest.raises(ArgumentError, match=r"confidence_threshold=None keeps every point"):
        Preparation(confidence_threshold=-1)
    assert not any(n.startswith("confidence_threshold") for n in option_names("report"))
    assert "confidence_threshold=None" not in option_names("apply")


def test_a_value_word_does_not_say_the_argument_alone():
    """``format=None`` words that value only: ``{format}`` alone stays ``--format``."""
    assert error_line(ArgumentError("give {format}", "format"), "fit") == "give --format"
    assert error_line(ArgumentError("or {format:None}", "format"), "fit") == (
        "or leave --format out"
    )


def test_an_option_the_subcommand_lacks_points_to_its_help(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["apply", "--states", "5", str(tmp_path), str(KEYPOINTS), "-o", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.count("\n") == 1
    assert err.startswith("ethogram: error: unrecognized arguments: --states")
    assert err.rstrip().endswith("(see 'ethogram apply --help')")
    assert not (tmp_path / "o").exists()


def test_the_kappa_search_remedy_names_the_options():
    from ethogram.analysis.diagnostics import fit_quality_warnings
    from ethogram.stickiness import REMEDY, smallest_kappa

    search = smallest_kappa(lambda k: {"median_duration": 2.0}, 12.0, 1e4)
    assert not search.reached and search.message.endswith(REMEDY)
    assert "--" not in search.message and "fit_recordings" not in search.message
    assert "(raise prior_ridge tenfold)" in search.message  # Python's words in the library
    labels = [np.repeat(np.arange(4), 30)]  # long syllables: only the search's warning
    (warning,) = fit_quality_warnings(
        labels, [30.0], search={"reached": False, "message": search.message}
    )
    # at MoSeq's default target (a mouse's 0.4 s) a shorter target is named after the remedy
    assert warning.kind == "kappa_target_missed" and REMEDY + "; if this animal" in str(warning)
    line = warning_line(warning)
    assert "prior_ridge" not in line and "fit_recordings" not in line
    assert line.endswith(
        "fewer states (--states) and a stronger AR prior (raise --prior-ridge tenfold) let "
        "kappa act again; if this animal's movements are faster than a mouse's (a fly's), give "
        "a shorter --target-duration S instead"
    )


def test_a_recording_given_to_report_is_to_be_fitted_first(tmp_path, capsys):
    """``ethogram report keypoints.csv``: the recording, not its fit; the fix is the fit."""
    msg = _error(["report", KEYPOINTS, "-o", tmp_path / "r"], capsys)
    assert msg.startswith(f"{str(KEYPOINTS)!r} is not an ethogram results file: ")
    assert msg.endswith(
        "if it is a recording, fit it first ('ethogram fit keypoints.csv -o DIR') and give "
        "DIR, the folder the fit writes"
    )
    assert not (tmp_path / "r").exists()


def test_an_h5_recording_that_is_not_hdf5_is_said_to_be_damaged(tmp_path, capsys):
    """A .h5 file whose bytes are not HDF5 (a copy cut short): no --format reads it, so the
    damage is named first, the format option second."""
    broken = tmp_path / "session1.h5"
    broken.write_bytes(b"\x89HDF\r\n")  # the first bytes of an HDF5 signature, then nothing
    msg = _error(["fit", broken, "-o", tmp_path / "out"], capsys)
    assert msg.startswith(f"{broken} is not a readable HDF5 file (")
    assert "it may be damaged or cut short (copy it again from where it was recorded)" in msg
    assert msg.endswith("give that as --format NAME, NAME one of " + ", ".join(FORMATS))
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        # other tools' names (hmmlearn's n_iter, keypoint-moseq's num_states) and a typo
        (
            ["fit", "x.csv", "--num-states", "5", "-o", "o"],
            "--num-states 5; did you mean --states?",
        ),
        (["fit", "x.csv", "--n-iter", "5", "-o", "o"], "--n-iter 5; did you mean --iters?"),
        (["fit", "x.csv", "--kapa", "5", "-o", "o"], "--kapa 5; did you mean --kappa?"),
        (["fit", "x.csv", "--foo", "1", "-o", "o"], "--foo 1 (see"),
    ],
)
def test_an_option_in_other_words_is_named_in_ours(argv, said, tmp_path, capsys, monkeypatch):
    """A fresh user typed --num-states and --iterations: the one line names our word."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.count("\n") == 1
    assert err.startswith(f"ethogram: error: unrecognized arguments: {said}")
    assert err.rstrip().endswith("(see 'ethogram fit --help')")
    assert not (tmp_path / "o").exists()


def test_a_required_option_given_in_other_words_is_named(tmp_path, capsys):
    """``compare FIT --annotations a.csv``: annotations go to --labels, said in the line that
    says --labels is required."""
    with pytest.raises(SystemExit) as exc:
        main(["compare", str(tmp_path), "--annotations", str(tmp_path / "a.csv")])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert err == (
        "ethogram: error: the following arguments are required: --labels; --annotations is not "
        "one of its options: did you mean --labels? (see 'ethogram compare --help')\n"
    )


def test_a_video_or_a_pca_model_is_said_to_be_no_recording(tmp_path, capsys):
    """A fresh user's video.mp4 and moseq2-pca's model file (pca.h5) were answered "give it as
    --format NAME", which no format satisfies: they are said not to be recordings, with what to
    give instead."""
    import h5py

    video = tmp_path / "session1.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    msg = _error(["fit", video, "--fps", "30", "-o", tmp_path / "o"], capsys)
    assert msg == (
        f"{video} is not a recording: it is a video; give the pose tracker's output for it "
        "(DeepLabCut .csv or .h5, SLEAP .slp, NWB, JABS pose .h5); the video itself goes to "
        "'ethogram movies --video'"
    )
    pca = tmp_path / "pca.h5"
    with h5py.File(pca, "w") as f:
        f["components"] = np.eye(3)
        f["explained_variance"] = np.ones(3)
    msg = _error(["info", pca], capsys)
    assert msg.startswith(f"{pca} is not a recording: it holds a PCA model")
    assert "--format" not in msg
    # a file of an unknown layout still gets the --format advice
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["cps"] = np.ones(3)
    assert "give it as --format NAME" in _error(["info", tmp_path / "other.h5"], capsys)
