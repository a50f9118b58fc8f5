"""Errors raised by the library carry the arguments they name; the command says them as its options.

The preparation says ``pass bodyparts=[...]``; ``ethogram fit`` says ``--bodyparts NAMES``, and
``ethogram apply`` (whose body parts were fixed by the fit) says to fit again with
``ethogram fit --bodyparts NAMES``. Checked on the real recordings (openfield DLC with 4 body
parts, JABS with 12) and on the wording function itself.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from _pose_files import renamed_bodyparts_csv
from conftest import DATA
from ethogram.cli import main
from ethogram.cli._errors import error_line
from ethogram.errors import ArgumentError, OutputExistsError

OPENFIELD = ["'snout'", "'leftear'", "'rightear'", "'tailbase'"]
JABS = [
    "'nose'",
    "'left_ear'",
    "'right_ear'",
    "'base_neck'",
    "'left_front_paw'",
    "'right_front_paw'",
    "'center_spine'",
    "'left_rear_paw'",
    "'right_rear_paw'",
    "'base_tail'",
    "'mid_tail'",
    "'tip_tail'",
]


def _error(argv, capsys) -> str:
    code = main([str(a) for a in argv])
    cap = capsys.readouterr()
    assert code == 2, cap.err
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ethogram: error: ")
    return lines[0][len("ethogram: error: ") :]


def _names(quoted) -> str:
    return "[" + ", ".join(quoted) + "]"


def test_fit_with_different_body_parts_names_the_option(tmp_path, capsys):
    msg = _error(
        [
            "fit",
            DATA / "openfield" / "keypoints.csv",
            DATA / "jabs" / "sample_pose_est_v2.h5",
            "--fps",
            "30",
            "-o",
            tmp_path / "fit",
            "--quiet",
        ],
        capsys,
    )
    assert msg == (
        # the recordings in the order given: the open field's is the first; they share no body
        # part, so no subset of them is advised
        f"recording 'sample_pose_est_v2' shares no body part with the first training "
        f"recording: it has {_names(JABS)}, that one has {_names(OPENFIELD)}; fit recordings "
        "tracked with the same body parts together"
    )
    assert not (tmp_path / "fit").exists()
    # a recording that shares some of them: the option keeps those (both files in tmp_path, so
    # their order by path is the same wherever the repository is: a.csv, then some.csv)
    first = renamed_bodyparts_csv(DATA / "openfield" / "keypoints.csv", tmp_path / "a.csv", {},
                                  num_frames=50)  # fmt: skip
    some = renamed_bodyparts_csv(DATA / "openfield" / "keypoints.csv", tmp_path / "some.csv",
                                 {"tailbase": "tail"}, num_frames=50)  # fmt: skip
    msg = _error(["fit", some, first, "--fps", "30", "-o", tmp_path / "fit"], capsys)
    assert msg == (
        "recording 'some' lacks body part(s) ['tailbase']; it has ['snout', 'leftear', "
        f"'rightear', 'tail'], the first training recording had {_names(OPENFIELD)}; pass "
        f"--bodyparts NAMES to keep the body parts they share, {_names(OPENFIELD[:3])}"
    )
    assert not (tmp_path / "fit").exists()


def test_apply_with_other_body_parts_says_to_fit_again(tmp_path, capsys):
    assert (
        main(
            [
                "fit",
                str(DATA / "openfield" / "keypoints.csv"),
                "--fps",
                "30",
                "-o",
                str(tmp_path / "fit"),
                "--states",
                "3",
                "--iters",
                "2",
                "--quiet",
            ]
        )
        == 0
    )
    capsys.readouterr()
    msg = _error(
        [
            "apply",
            tmp_path / "fit",
            DATA / "jabs" / "sample_pose_est_v2.h5",
            "--fps",
            "30",
            "-o",
            tmp_path / "ap",
            "--quiet",
        ],
        capsys,
    )
    assert msg == (  # no body part in common: both lists, and no subset to keep
        f"recording 'sample_pose_est_v2' shares no body part with the preparation's (the "
        f"model's) training recordings: it has {_names(JABS)}, they had {_names(OPENFIELD)}; if "
        "these are the same points under other names, rename them in the file to the model's, "
        "else fit a model on recordings tracked like it"
    )
    assert not (tmp_path / "ap").exists()
    some = renamed_bodyparts_csv(DATA / "openfield" / "keypoints.csv", tmp_path / "some.csv",
                                 {"tailbase": "tail"}, num_frames=50)  # fmt: skip
    msg = _error(["apply", tmp_path / "fit", some, "--fps", "30", "-o", tmp_path / "ap"], capsys)
    assert msg == (
        f"recording 'some' lacks body part(s) ['tailbase']; it has ['snout', 'leftear', "
        f"'rightear', 'tail'], the preparation's training recordings had {_names(OPENFIELD)}; "
        "fit the model again with 'ethogram fit --bodyparts NAMES' to keep the body parts they "
        f"share, {_names(OPENFIELD[:3])}"
    )
    assert not (tmp_path / "ap").exists()


def test_fit_confidence_is_named_as_the_option(tmp_path, capsys):
    msg = _error(
        [
            "fit",
            DATA / "openfield" / "keypoints.csv",
            "--fps",
            "30",
            "-o",
            tmp_path / "fit",
            "--quiet",
            "--confidence",
            "1.5",
        ],
        capsys,
    )
    # refused against the data (DeepLabCut scores are in [0, 1]), before any model is fitted
    assert msg == (
        "--confidence 1.5 is above every confidence in recording 'keypoints' (they range from "
        "0.0923 to 0.998); give a threshold inside that range (DeepLabCut and SLEAP scores are "
        "in [0, 1], e.g. 0.5)"
    )
    assert "confidence_threshold" not in msg and not (tmp_path / "fit").exists()


# (command, template, arguments, what the command says): the library's errors carry their
# arguments as data (ethogram.errors) and the command says them with its options (cli/_errors.py)
CASES = [
    (
        "fit",
        "recording 'r': body part(s) ['a'] are missing "
        "(or below {confidence_threshold:0.5}) in every "
        "frame; leave them out with {bodyparts:[...]}",
        ("confidence_threshold", "bodyparts"),
        "recording 'r': body part(s) ['a'] are missing (or below --confidence 0.5) in every frame; "
        "leave them out with "
        "--bodyparts NAMES",
    ),
    (
        "apply",
        "recording 'r': body part(s) ['a'] are missing "
        "(or below {confidence_threshold:0.5}) in every "
        "frame; leave them out by fitting the model again with {bodyparts:[...]}",
        ("confidence_threshold", "bodyparts"),
        "recording 'r': body part(s) ['a'] are missing (or below the model's --confidence 0.5) "
        "in every frame; leave them "
        "out by fitting the model again with 'ethogram fit --bodyparts NAMES'",
    ),
    (
        "select",
        "cannot guess the anterior body parts from ['a', 'b']; "
        "give {anterior:[...]} and {posterior:[...]}, "
        "e.g. the nose and the tail base",
        ("anterior", "posterior"),
        "cannot guess the anterior body parts from ['a', 'b']; "
        "give --anterior NAMES and --posterior NAMES, e.g. the nose "
        "and the tail base",
    ),
    (
        "fit",
        "'out/results.h5' exists; pass {overwrite:True} to replace it",
        "overwrite",
        "'out/results.h5' exists; pass --overwrite to replace it",
    ),
    (
        "info",
        "pass {bodyparts:[...]} here",
        "bodyparts",
        "pass bodyparts=[...] here",
    ),  # info has no --bodyparts
    ("fit", "give {fps}", "fps", "give --fps"),
    (
        "apply",
        "give {fps:30} if that video is the tracked one",
        "fps",
        "give --fps 30 if that video is the tracked one",
    ),
    (
        "fit",
        "lower {num_states:K} (a few dozen is usual)",
        "num_states",
        "lower --states K (a few dozen is usual)",
    ),
    (
        "fit",
        "keep at most 2 input(s) with {num_pcs:2} or a lower {variance:F}",
        ("num_pcs", "variance"),
        "keep at most 2 input(s) with --pcs 2 or a lower --variance F",
    ),
    (
        "fit",
        "delete the checkpoint (or {resume:False}) to start over",
        "resume",
        "delete the checkpoint (or run with --overwrite instead of --resume) to start over",
    ),
    (
        "fit",
        "search it with {target_duration}",
        "target_duration",
        "search it with --target-duration S",
    ),
    (
        "fit",
        "recording '{fps}' {x}: give {fps}",
        "fps",
        "recording '--fps' {x}: give --fps",
    ),  # other braces stay
]


@pytest.mark.parametrize("command, template, arguments, expected", CASES)
def test_the_command_says_the_arguments_as_its_options(command, template, arguments, expected):
    err = ArgumentError(template, arguments)
    assert error_line(err, command) == expected
    for name in (arguments,) if isinstance(arguments, str) else arguments:
        assert f"{{{name}" not in str(err) or name == "fps"  # every field is said in Python words
    assert "--" not in str(err)  # the library's own words name no option


def test_python_words_name_the_arguments_and_their_values():
    err = ArgumentError(
        "pass {overwrite:True} or {bodyparts:[...]}; give {fps}", ("overwrite", "bodyparts", "fps")
    )
    assert str(err) == "pass overwrite=True or bodyparts=[...]; give fps"
    assert isinstance(err, ValueError) and err.arguments == ("overwrite", "bodyparts", "fps")
    copy = pickle.loads(pickle.dumps(err))
    assert (str(copy), copy.arguments, type(copy)) == (str(err), err.arguments, ArgumentError)
    with pytest.raises(ValueError, match="no field for the arguments"):
        ArgumentError("give fps", "fps")


def test_errors_without_arguments_are_said_as_they_are():
    assert (
        error_line(ValueError("bodyparts=[...] as written"), "fit") == "bodyparts=[...] as written"
    )
    assert error_line(KeyError("a key's message"), "fit") == "a key's message"
    assert error_line(ValueError(""), "fit") == "ValueError"
    err = OutputExistsError("{overwrite:True}\nsecond line", "overwrite")
    assert isinstance(err, FileExistsError) and error_line(err, "report") == "--overwrite"


def _messages(path):
    """The string constants of a module that are not docstrings."""
    import ast

    tree = ast.parse(path.read_text())
    docs = {
        id(n.body[0].value)
        for n in ast.walk(tree)
        if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
        and n.body
        and isinstance(n.body[0], ast.Expr)
        and isinstance(n.body[0].value, ast.Constant)
    }
    return [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs
    ]


def test_no_library_message_spells_a_command_line_flag():
    """No string in the library outside the CLI says an option as \"(--x on the command line)\" or
    rewrites one: the CLI has no regular expressions over messages left."""
    import ethogram

    root = Path(ethogram.__file__).parent
    said = [
        f"{p.relative_to(root)}: {text[:60]!r}"
        for p in root.rglob("*.py")
        if "cli" not in p.parts
        for text in _messages(p)
        if "on the command line" in text
    ]
    assert not said, said
    assert "re.sub" not in (root / "cli" / "_common.py").read_text()
