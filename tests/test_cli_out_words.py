"""One word per concept on the command line (issue 16): every command that writes takes ``-o DIR``
and ``--out DIR`` for where it writes (``--output``, the older spelling, still read), and the
commands that read a fit call its results folder RESULTS, in usage, help and errors. Parsing
only, and errors raised before any work: no fit runs here."""

from __future__ import annotations

import pytest

from ethogram.cli import build_parser, main
from ethogram.cli._errors import OUT_OPTION, option_names

#: each command that writes: the arguments it needs besides its output, and where the output
#: lands in the parsed arguments
WRITERS = {
    "fit": (["rec.csv"], "output"),
    "apply": (["fit1", "rec.csv"], "output"),
    "select": (["rec.csv"], "output"),
    "demo": ([], "output"),
    "report": (["fit1"], "output"),
    "movies": (["fit1"], "out"),
    "compare": (["fit1", "--labels", "labels.csv"], "out"),
    "stats": (["fit1", "--groups", "groups.csv"], "out"),
    "export": (["fit1", "--nwb"], "out"),
}
#: the commands that read a fit's results folder as their first positional argument
READERS = ("report", "movies", "compare", "stats", "export", "apply")


def _parsed(command: str, *out_words: str) -> dict:
    needs, _ = WRITERS[command]
    return vars(build_parser().parse_args([command, *needs, *out_words]))


@pytest.mark.parametrize("command", sorted(WRITERS))
def test_every_writer_takes_o_and_out_for_the_same_option(command):
    dest = WRITERS[command][1]
    short = _parsed(command, "-o", "somewhere")
    assert short[dest] == "somewhere"
    # the long name, its = form, the short name glued to its value and the older spelling
    # (and argparse's abbreviation of it) give the same arguments
    for words in (
        ["--out", "somewhere"],
        ["--out=somewhere"],
        ["-osomewhere"],
        ["--output", "somewhere"],
        ["--output=somewhere"],
        ["--outp", "somewhere"],
    ):
        assert _parsed(command, *words) == short, words


def test_the_older_spelling_is_read_only_before_a_double_dash_and_only_where_out_exists(capsys):
    args = build_parser().parse_args(["fit", "-o", "fit1", "--", "--output"])
    assert args.output == "fit1" and args.inputs == ["--output"]
    # info writes nothing: it has neither word
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["info", "--output", "x"])
    assert exc.value.code == 2
    assert "unrecognized arguments: --output" in capsys.readouterr().err


def _help(capsys, *argv) -> str:
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--help"])
    assert exc.value.code == 0
    return " ".join(capsys.readouterr().out.split())  # argparse's line breaks aside


@pytest.mark.parametrize("command", READERS)
def test_the_help_of_a_reader_says_results_and_o_dir_out_dir(command, capsys):
    text = _help(capsys, command)
    usage = text.split(" options:")[0]
    assert f"ethogram {command} " in usage and " RESULTS" in usage
    assert "RESULTS the fit's results folder: the folder 'ethogram fit -o' wrote" in text
    assert "-o DIR, --out DIR" in text
    assert "OUT " not in text and "OUT/" not in text and "MODEL" not in text
    assert "--output" not in text


@pytest.mark.parametrize("command", sorted(WRITERS))
def test_the_help_of_every_writer_says_o_dir_out_dir(command, capsys):
    text = _help(capsys, command)
    assert "-o DIR, --out DIR" in text and "--output" not in text and "OUT " not in text


def test_the_command_s_help_ends_with_examples_in_these_words(capsys):
    text = _help(capsys)
    assert "every command that writes takes -o DIR (or --out DIR)" in text
    assert "results folder, RESULTS: the folder 'ethogram fit -o' wrote" in text
    assert "ethogram fit recordings/ -o fit1" in text and "ethogram report fit1" in text


def _error(capsys, *argv) -> str:
    assert main([str(a) for a in argv]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ethogram: error: "), lines
    return lines[0][len("ethogram: error: ") :]


def test_errors_name_the_option_o_out(capsys):
    assert OUT_OPTION == "-o/--out"
    assert option_names()["out_dir"] == "-o/--out DIR"  # a library error naming out_dir
    with pytest.raises(SystemExit) as exc:
        main(["fit", "rec.csv"])
    assert exc.value.code == 2
    assert "the following arguments are required: -o/--out" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["movies", "fit1", "--out"])
    assert "argument -o/--out: expected one argument" in capsys.readouterr().err


@pytest.mark.parametrize("command", READERS)
def test_errors_name_a_missing_fit_results(command, tmp_path, capsys):
    missing = tmp_path / "nofit"
    needs = [a if a != "fit1" else str(missing) for a in WRITERS[command][0]]
    if command == "apply":
        needs += ["-o", str(tmp_path / "out")]
    if command == "compare":
        (tmp_path / "labels.csv").write_text("recording,frame,label\n")
        needs[needs.index("labels.csv")] = str(tmp_path / "labels.csv")
    line = _error(capsys, command, *needs)
    assert line.startswith(f"RESULTS {str(missing)!r}") and "'ethogram fit -o' wrote" in line
    # a file that is no results file (a recording given as RESULTS) is said the same way
    recording = tmp_path / "rec.csv"
    recording.write_text("x\n")
    needs = [str(recording) if a == str(missing) else a for a in needs]
    if command != "report":  # report reads any file it is given as the results file
        line = _error(capsys, command, *needs)
        assert line.startswith(f"RESULTS {str(recording)!r} is a file but not a results file")
    assert not (tmp_path / "out").exists()
