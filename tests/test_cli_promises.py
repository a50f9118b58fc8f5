"""Errors that keep the promise (issue 18): one line, exit code 2, nothing half-written, found
before the work rather than after it: too many syllables for the frames or the memory, an
output folder that cannot be written, a group test with one animal per group, a checkpoint
that a plain re-run would have replaced, and Ctrl-C naming --resume."""

from __future__ import annotations

import errno
import os

import numpy as np
import pandas as pd
import pytest

from ethogram.cli import main


def _run(argv, capsys):
    code = main([str(a) for a in argv])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture(scope="module")
def features(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("promises")
    x = np.cumsum(np.random.default_rng(0).normal(size=(400, 3)), axis=0)
    np.save(tmp / "x.npy", x)
    return tmp / "x.npy"


def _fit(features, out, *extra):
    return [
        "fit",
        features,
        "--fps",
        "30",
        "-o",
        out,
        "--states",
        "3",
        "--iters",
        "4",
        "--quiet",
        *extra,
    ]


# --------------------------------------------------------------------------- --states
def test_more_syllables_than_frames_is_refused_before_allocating(features, tmp_path, capsys):
    code, out, err = _run(
        ["fit", features, "--fps", "30", "-o", tmp_path / "o", "--states", "100000"], capsys
    )
    line = _one_line(err)
    assert code == 2 and out == ""
    assert line == (
        "ethogram: error: 100,000 syllables but only 400 usable frames: each syllable needs frames "
        "to be learned from; lower --states K (a few dozen is usual)"
    )
    assert not (tmp_path / "o").exists()


def test_a_fit_larger_than_memory_is_refused_naming_what_fits(
    features, tmp_path, capsys, monkeypatch
):
    from ethogram.prep import model_size

    need = model_size.fit_memory_bytes(3, 3, 300, 400)
    monkeypatch.setattr(model_size, "available_memory", lambda: need / 2)
    code, _, err = _run(
        ["fit", features, "--fps", "30", "-o", tmp_path / "o", "--states", "300"], capsys
    )
    line = _one_line(err)
    assert code == 2 and not (tmp_path / "o").exists()
    largest = int(line.split("(at most ")[1].split()[0].replace(",", ""))
    assert (
        model_size.fit_memory_bytes(3, 3, largest, 400)
        <= need / 2
        < model_size.fit_memory_bytes(3, 3, largest + 1, 400)
    )
    assert (
        line.startswith("ethogram: error: 300 syllables need about ") and "lower --states K" in line
    )
    with pytest.raises(ValueError, match="of memory for the fit"):
        model_size.check_model_size(3, 3, 300, 400, memory=need - 1)
    # enough memory: no memory error (on 4,000 frames, whose 12,000 values can hold the 300
    # syllables' 10,800 parameters)
    model_size.check_model_size(
        3, 3, 300, 4000, memory=model_size.fit_memory_bytes(3, 3, 300, 4000)
    )


def test_syllables_with_more_parameters_than_the_recordings_have_values_are_refused(
    features, tmp_path, capsys
):
    """2,000 syllables on the shipped mouse's 2,228 frames ran for more than ten minutes without
    a word: K syllables of 36 parameters (3 inputs, 3 lags) need K x 36 <= frames x 3."""
    from ethogram.prep import model_size

    code, out, err = _run(
        ["fit", features, "--fps", "30", "-o", tmp_path / "o", "--states", "150"], capsys
    )
    assert code == 2 and out == "" and not (tmp_path / "o").exists()
    assert _one_line(err) == (
        "ethogram: error: 150 syllables of 36 parameters each are 5,400 parameters, more than "
        "the 1,200 values of the recordings (400 usable frames x 3 inputs), so they cannot be "
        "learned; lower --states K (at most 33 for these recordings; MoSeq's usual few dozen need "
        "more frames) or give more recordings"
    )
    model_size.check_model_size(3, 3, 33, 400, memory=None)  # 1,188 parameters: fits
    with pytest.raises(ValueError, match="34 syllables of 36 parameters"):
        model_size.check_model_size(3, 3, 34, 400, memory=None)


# --------------------------------------------------------------------------- the output folder
def test_an_unwritable_output_is_found_before_the_fit(features, tmp_path, capsys, monkeypatch):
    import tempfile

    import ethogram.pipeline as pipeline

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    def no_fit(*args, **kwargs):
        raise AssertionError("the fit ran although its output cannot be written")

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    monkeypatch.setattr(pipeline, "fit_recordings", no_fit)
    code, _, err = _run(_fit(features, tmp_path / "a" / "b"), capsys)
    assert code == 2
    # the folder asked for (missing) and the one it would be made in (the nearest that exists)
    assert _one_line(err) == (
        f"ethogram: error: cannot create the output folder {str(tmp_path / 'a' / 'b')!r} in "
        f"{str(tmp_path)!r}: it is on a read-only file system (Read-only file system); choose "
        "another output with -o/--out"
    )
    assert not (tmp_path / "a").exists()
    # an existing folder is named alone; a refusal without a known reason is not called
    # "not yours" (-o /proc/x: ENOENT from a folder that takes no files)
    (tmp_path / "here").mkdir()

    def missing(*args, **kwargs):
        raise OSError(errno.ENOENT, "No such file or directory")

    monkeypatch.setattr(tempfile, "mkstemp", missing)
    code, _, err = _run(_fit(features, tmp_path / "here"), capsys)
    assert code == 2 and _one_line(err) == (
        f"ethogram: error: cannot write to the output folder {str(tmp_path / 'here')!r}: it "
        "does not take new files (No such file or directory); choose another output with "
        "-o/--out"
    )


def test_every_command_that_writes_says_an_unwritable_output_in_words(
    features, tmp_path, capsys, monkeypatch
):
    """report, compare, movies and stats with -o where nothing can be written printed a raw
    "[Errno 2] No such file or directory: '/proc/.x.tmp-12770'" naming their temporary file (a
    fresh user's -o /proc/x); fit, apply and select already said it in words."""
    import tempfile

    code, _, err = _run(_fit(features, tmp_path / "fit"), capsys)
    assert code == 0, err
    fit = tmp_path / "fit"
    (tmp_path / "groups.csv").write_text("recording,group\nx,a\n")
    locked = tmp_path / "locked"
    locked.mkdir()
    real = tempfile.mkstemp

    def refuse(*args, dir=None, **kwargs):
        if dir is not None and str(dir).startswith(str(locked)):
            raise OSError(errno.EROFS, "Read-only file system")
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    for argv in (
        ["report", fit, "--no-trajectories", "--quiet"],
        ["compare", fit, "--labels", fit],
        ["movies", fit, "--kind", "skeleton", "--quiet"],
        ["stats", fit, "--groups", tmp_path / "groups.csv"],
    ):
        code, _, err = _run([*argv, "-o", locked / "x"], capsys)
        assert code == 2 and _one_line(err) == (
            f"ethogram: error: cannot create the output folder {str(locked / 'x')!r} in "
            f"{str(locked)!r}: it is on a read-only file system (Read-only file system); "
            "choose another output with -o/--out"
        ), argv
        assert list(locked.iterdir()) == []


@pytest.mark.skipif(
    os.name != "posix" or os.geteuid() == 0, reason="root writes into read-only folders"
)
def test_a_read_only_folder_is_found_before_the_fit(features, tmp_path, capsys):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        code, _, err = _run(_fit(features, folder / "out"), capsys)
    finally:
        folder.chmod(0o755)
    assert code == 2 and "cannot create the output folder" in _one_line(err)
    assert "read-only or not yours" in _one_line(err)
    assert list(folder.iterdir()) == []


# --------------------------------------------------------------------------- stats
@pytest.fixture(scope="module")
def four_animals(tmp_path_factory):
    from ethogram.results import write_results
    from ethogram.viz._synthetic import synthetic_results

    tmp = tmp_path_factory.mktemp("groups")
    res = synthetic_results(
        num_states=3, num_recordings=4, num_frames=300, expected_states=False, fit_iters=1
    )
    write_results(tmp / "results.h5", res, csv=False)
    return tmp, res.names


def test_stats_with_one_animal_per_group_is_refused(four_animals, tmp_path, capsys):
    fit, names = four_animals
    pd.DataFrame({"recording": names, "group": ["a", "b", "", ""]}).to_csv(
        tmp_path / "g.csv", index=False
    )
    code, out, err = _run(
        ["stats", fit, "--groups", tmp_path / "g.csv", "--out", tmp_path / "s"], capsys
    )
    line = _one_line(err)
    assert code == 2 and out == ""
    assert line.startswith(
        f"ethogram: error: every group holds one recording (a: {names[0]!r}, b: {names[1]!r}): "
        "with one animal per group no test is possible"
    )
    assert not (tmp_path / "s").exists()


def test_stats_says_when_no_p_value_can_reach_alpha(four_animals, tmp_path, capsys):
    fit, names = four_animals
    pd.DataFrame({"recording": names, "group": ["a", "a", "b", "b"]}).to_csv(
        tmp_path / "g.csv", index=False
    )
    code, out, err = _run(
        ["stats", fit, "--groups", tmp_path / "g.csv", "--out", tmp_path / "s"], capsys
    )
    assert code == 0
    # Mann-Whitney with 2 and 2: the smallest two-sided p is 2 / C(4, 2) = 1/3
    assert _one_line(err) == (
        "ethogram: warning: with 2 and 2 recordings per group no Mann-Whitney p-value can be "
        "below 0.33, so no difference can be significant at alpha=0.05; add animals to the groups"
    )
    from scipy.stats import mannwhitneyu

    from ethogram.analysis.groups import smallest_p_value

    assert smallest_p_value([2, 2]) == pytest.approx(
        mannwhitneyu([0, 1], [2, 3], method="exact").pvalue
    )
    assert smallest_p_value([4, 4]) == pytest.approx(
        mannwhitneyu([0, 1, 2, 3], [4, 5, 6, 7], method="exact").pvalue
    )


# --------------------------------------------------------------------------- checkpoints
def test_a_plain_rerun_does_not_replace_a_checkpoint(features, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    ck = out / "results.checkpoint.h5"
    ck.write_bytes(b"an interrupted fit")
    code, _, err = _run(_fit(features, out), capsys)
    assert code == 2
    assert _one_line(err) == (
        f"ethogram: error: {str(ck)!r} holds the checkpoint of an interrupted fit: pass "
        "--resume to carry it on (same inputs and options), or --overwrite to start over "
        "and replace it"
    )
    assert ck.read_bytes() == b"an interrupted fit" and sorted(p.name for p in out.iterdir()) == [
        ck.name
    ]
    code, _, err = _run(_fit(features, out, "--overwrite"), capsys)
    assert code == 0, err
    assert (out / "results.h5").is_file() and not ck.exists()


@pytest.mark.parametrize("kappa", [(), ("--kappa", "100")], ids=["kappa search", "given kappa"])
def test_ctrl_c_names_the_checkpoint_and_resume(features, tmp_path, capsys, monkeypatch, kappa):
    """Interrupted at the second checkpoint (in the kappa search of a default fit, in the fit
    itself with a given kappa): the message names the file(s) kept, and --resume then gives the
    uninterrupted fit's syllables."""
    import ethogram.fitting.checkpoint as checkpoint

    real, calls = checkpoint.save_checkpoint, []

    def save_then_interrupt(path, state):
        out = real(path, state)
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return out

    monkeypatch.setattr(checkpoint, "save_checkpoint", save_then_interrupt)
    out = tmp_path / "out"
    code, _, err = _run(_fit(features, out, "--checkpoint-every", "1", *kappa), capsys)
    ck = out / ("results.checkpoint.h5" if kappa else "results.checkpoint.kappa-0.h5")
    assert code == 130 and ck.is_file() and not (out / "results.h5").exists()
    assert _one_line(err) == (
        f"ethogram: interrupted; {'the fit' if kappa else 'the kappa search'} so far is kept in "
        f"{ck}: run the same command with --resume to carry it on (or with --overwrite to start "
        "over)"
    )
    monkeypatch.setattr(checkpoint, "save_checkpoint", real)
    code, _, err = _run(_fit(features, out, "--checkpoint-every", "1", "--resume", *kappa), capsys)
    assert code == 0, err
    assert (
        sorted(p.name for p in out.glob("*checkpoint*")) == []
    )  # removed once results are written
    # the resumed fit is the uninterrupted one
    code, _, err = _run(
        _fit(features, tmp_path / "whole", "--checkpoint-every", "1", *kappa), capsys
    )
    from ethogram.results import load_results

    a, b = load_results(out / "results.h5"), load_results(tmp_path / "whole" / "results.h5")
    np.testing.assert_array_equal(a.recordings[0].syllables, b.recordings[0].syllables)
    np.testing.assert_array_equal(a.fit["objectives"], b.fit["objectives"])
