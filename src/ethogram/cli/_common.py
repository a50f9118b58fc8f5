"""What several subcommands share: reading inputs, where outputs go, the syllable summary table."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from .._files import built_beside, remove_if_empty, swap_items  # noqa: F401 (cli/fit)
from .._files import missing_folders as _missing_folders
from .._runs import run_lengths
from ._errors import OUT_OPTION, RESULTS, option_names

RESULTS_NAME = "results.h5"


def names_list(values) -> list | None:
    """``["a,b", "c"]`` (repeated or comma-separated options) -> ``["a", "b", "c"]``; None stays
    None."""
    if not values:
        return None
    out = [v.strip() for value in values for v in str(value).split(",") if v.strip()]
    return out or None


def warning_line(message, category=None) -> str:
    """``ethogram: warning: <first line>``; a warning that carries the arguments it advises
    changing (:class:`ethogram.errors.Worded`) names them as options."""
    from ._errors import command_words

    text = command_words(message) or getattr(category, "__name__", "warning")
    return f"ethogram: warning: {text}"


@contextlib.contextmanager
def one_line_warnings():
    """Inside, a warning is one line on stderr, ``ethogram: warning: <message>`` (no source line).

    The warning filters are left as they are (``python -W error`` still turns them into errors).
    """

    def show(message, category, filename, lineno, file=None, line=None):
        (file or sys.stderr).write(warning_line(message, category) + "\n")

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


@contextlib.contextmanager
def held_warnings():
    """Keep the warnings of the block (a fit's) in the yielded list, to say after the summary
    with :func:`show_warnings`; the filters still apply (``-W error`` still raises)."""
    with warnings.catch_warnings(record=True) as caught:
        yield caught


def show_warnings(caught, out=None) -> None:
    """Print held warnings, one line each (:func:`warning_line`), on stderr after stdout.

    Printed under ``--quiet`` too: ``--quiet`` drops the progress bars, not what is wrong with
    a fit (as a kappa search that missed its target).
    """
    if not caught:
        return
    sys.stdout.flush()  # after the summary in a terminal
    for w in caught:
        (out or sys.stderr).write(warning_line(w.message, w.category) + "\n")


def read_inputs(args, timings: dict | None = None) -> list:
    """Read the recordings named on the command line (``args.inputs``, ``args.format``,
    ``args.fps``);
    files skipped in folders are named in one warning line on stderr."""
    from ..io import read_recordings

    t0 = time.perf_counter()
    scales = getattr(args, "px_per_mm", None)
    if scales is not None and _not_a_number(scales) and not Path(scales).expanduser().is_file():
        raise FileNotFoundError(
            f"--px-per-mm {scales!r} is neither a number of pixels per "
            "millimetre nor a CSV file of recording,px_per_mm"
        )
    with one_line_warnings():
        recordings = read_recordings(
            list(args.inputs), format=args.format, fps=args.fps, px_per_mm=scales
        )
    if timings is not None:
        timings["read"] = time.perf_counter() - t0
    if not recordings:
        raise ValueError(f"no recordings found in {' '.join(args.inputs)}")
    return recordings


def _not_a_number(text) -> bool:
    try:
        float(text)
    except ValueError:
        return True
    return False


def results_path(output) -> Path:
    """The results file for ``-o DIR``: DIR itself when it ends in .h5/.hdf5, else
    DIR/results.h5."""
    out = Path(output).expanduser()
    if out.suffix.lower() in (".h5", ".hdf5"):
        return out
    return out / RESULTS_NAME


def fitted_results_path(given, what: str = RESULTS) -> Path:
    """The results file a command reads, given as ``what`` (RESULTS): the folder ``ethogram
    fit -o`` wrote or its results .h5 file (:func:`results_path`).

    Raises
    ------
    CLIError
        When ``given`` is a file that is not a results file (a recording given as RESULTS),
        rather than looking for ``results.h5`` inside it.
    """
    from ._errors import CLIError

    path = Path(given).expanduser()
    if path.is_file() and path.suffix.lower() not in (".h5", ".hdf5"):
        raise CLIError(
            f"{what} {str(path)!r} is a file but not a results file: give the folder "
            "'ethogram fit -o' wrote, or its results .h5 file"
        )
    return results_path(path)


def existing_results_path(given) -> Path:
    """:func:`fitted_results_path`, which must exist (the commands that read a fit's results).

    Raises
    ------
    CLIError
        As :func:`fitted_results_path`.
    FileNotFoundError
        When there is no results file there.
    """
    path = fitted_results_path(given)
    if not path.is_file():
        raise FileNotFoundError(
            f"{RESULTS} {str(given)!r}: results file {str(path)!r} not found; give the folder "
            "'ethogram fit -o' wrote, or its results .h5 file"
        )
    return path


def check_output(path: Path, overwrite: bool) -> None:
    """Fail early (before any work) when the output exists and ``--overwrite`` was not given."""
    from ..results import csv_folder, tables_folder

    if path.exists() and path.is_dir():
        raise IsADirectoryError(f"output {str(path)!r} is a folder; give another name")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise NotADirectoryError(
                    f"output folder {str(parent)!r} is a file; give another {OUT_OPTION}"
                )
            break
    if not overwrite:
        for p in (path, csv_folder(path), tables_folder(path)):
            if p.exists():
                raise FileExistsError(f"{str(p)!r} exists; pass --overwrite to replace it")
    check_writable(path.parent)


def check_writable(folder) -> None:
    """Fail early (before any work) when ``folder``, or the nearest folder above it that exists
    (where the missing ones would be made), does not take a new file: read-only, not ours, a
    full disk. Tried by creating and removing a hidden file, which also catches read-only file
    systems and permissions that ``os.access`` misjudges.

    Raises
    ------
    PermissionError
        One line naming the folder, why, and ``-o/--out``.
    """
    import errno
    import tempfile

    asked = folder = Path(folder)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        fd, probe = tempfile.mkstemp(prefix=".ethogram-write-test-", dir=folder)
    except OSError as exc:
        why = {
            errno.EROFS: "it is on a read-only file system",
            errno.ENOSPC: "the disk is full",
            errno.EACCES: "it is read-only or not yours",
            errno.EPERM: "it is read-only or not yours",
        }.get(exc.errno, "it does not take new files")
        what = (
            f"write to the output folder {str(folder)!r}"
            if asked == folder
            else f"create the output folder {str(asked)!r} in {str(folder)!r}"
        )
        raise PermissionError(
            f"cannot {what}: {why} ({exc.strerror or exc}); choose another output with {OUT_OPTION}"
        ) from None
    os.close(fd)
    os.unlink(probe)


def syllable_tables(results) -> dict:
    """The syllable tables written beside the results (``<stem>_tables/<name>.csv``): those of
    :func:`ethogram.results.csv_files.syllable_tables` (``summary``, ``usage``, ``durations``,
    ``bigrams``, ``transitions``), the same files as the report's ``tables/``."""
    from ..results.csv_files import syllable_tables as tables

    return tables(results)


def missing_folders(path: Path) -> list:
    """The folders above ``path`` that do not exist yet, deepest first."""
    return _missing_folders(Path(path).parent)


def write(path: Path, results, overwrite: bool) -> Path:
    """Write results, CSVs and tables (atomically); create the output folder, and remove it again on
    failure."""
    from ..results import write_results

    created = []
    parent = path.parent
    while not parent.exists():
        created.append(parent)
        parent = parent.parent
    try:
        for folder in reversed(created):
            folder.mkdir()
        return write_results(path, results, overwrite=overwrite, tables=syllable_tables(results))
    except BaseException:
        for folder in created:
            shutil.rmtree(folder, ignore_errors=True)
        raise


def summary_table(results):
    """Per-syllable table for the terminal, from :func:`ethogram.analysis.syllable_summary`.

    Columns: ``frequency`` (% of syllable instances), ``frames`` (% of labelled frames),
    ``median duration`` (ms, else frames when the frame rate is unknown), ``mean speed``
    of the centroid (mm/s when every recording has a scale, else pixels per second; when
    known); syllables that never occur are dropped.
    """
    import pandas as pd

    from ..analysis import syllable_summary
    from ..io.units import common_scale

    cents = {r.name: r.centroid for r in results.recordings}
    has_centroid = all(c is not None for c in cents.values())
    table = syllable_summary(
        results.syllables(),
        fps=results.fps(),
        centroid=cents if has_centroid else None,
        num_states=results.num_states,
        px_per_mm=common_scale(results.px_per_mm()),
    )
    table = table[table["frames"] > 0]
    out = pd.DataFrame(index=table.index)
    out["frequency %"] = (100 * table["frequency"]).round(1)
    out["frames %"] = (100 * table["frame_fraction"]).round(1)
    if table["median_duration_s"].notna().all():
        out["median duration ms"] = (1000 * table["median_duration_s"]).round(0).astype(int)
    else:
        out["median duration frames"] = table["median_duration_frames"]
    if "mean_speed_mm_s" in table:  # every recording has a scale
        out["mean speed mm/s"] = table["mean_speed_mm_s"].round(1)
    elif "mean_speed_px_s" in table:
        out["mean speed px/s"] = table["mean_speed_px_s"].round(1)
    return out


def print_summary(
    results, path: Path, out, timings: dict | None = None, max_rows: int = 30
) -> None:
    """Print the fit's outcome: the model, recordings, the syllable table, where the results
    are."""
    from ..pipeline.methods import MODEL_NAMES
    from ..results import csv_folder, tables_folder

    total = sum(r.num_frames for r in results.recordings)
    labelled = sum(int((r.syllables >= 0).sum()) for r in results.recordings)
    cfg = results.config
    print(
        f"{len(results.recordings)} recording(s), {total} frames ({labelled} labelled); K = "
        f"{results.num_states}, lags = {cfg.get('num_lags')}, kappa = "
        f"{cfg.get('kappa_used', cfg.get('kappa')):.4g}",
        file=out,
    )
    method = cfg.get("method", "em")
    print(f"model: {MODEL_NAMES.get(method, method)}", file=out)  # as 'ethogram info' names it
    fit = results.fit
    if cfg.get("command") == "fit" and "num_iters" in fit:
        print(
            f"EM: {fit['num_iters']} iterations, converged: {bool(fit.get('converged'))}, "
            f"final objective {float(np.asarray(fit['objectives'])[-1]):.6g}",
            file=out,
        )
    prep = results.preparation
    if (
        cfg.get("command") == "fit"
        and getattr(prep, "kind", None) == "keypoints"
        and getattr(prep, "anterior_", None)
    ):
        guessed = (
            ""
            if prep.anterior is not None and prep.posterior is not None
            else " (guessed from the names; --anterior/--posterior)"
        )
        print(
            f"heading: from {'+'.join(prep.posterior_)} to {'+'.join(prep.anterior_)}{guessed}; "
            f"{_inputs_words(results)} from {len(prep.bodyparts_)} body parts",
            file=out,
        )
    from ..analysis._data_notes import data_notes

    for note in data_notes(results):  # the report shows them too
        print(f"note: {note.worded(option_names(cfg.get('command')))}", file=out)
    scales = results.px_per_mm()
    unscaled = [n for n, v in scales.items() if v is None]
    if unscaled and len(unscaled) < len(scales):
        more = f" and {len(unscaled) - 3} more" if len(unscaled) > 3 else ""
        print(
            f"note: {len(unscaled)} of {len(scales)} recordings have no scale "
            f"({', '.join(unscaled[:3])}{more}): speeds and distances stay in pixels; give "
            "--px-per-mm (a number, or a CSV of recording,px_per_mm)",
            file=out,
        )
    table = summary_table(results)
    durations = []
    for r in results.recordings:
        lengths = run_lengths(r.syllables)
        durations.append(lengths / r.fps if r.fps else lengths * np.nan)
    d = np.concatenate(durations) if durations else np.zeros(0)
    median = (
        f"{1000 * np.median(d):.0f} ms"
        if d.size and np.isfinite(d).all()
        else "unknown (no frame rate)"
    )
    order = (
        "0 = most frequent"
        if results.config.get("command", "fit") == "fit"
        else "the model's numbering: 0 = most frequent in its fit"
    )
    labelled = sum(int((r.syllables >= 0).sum()) for r in results.recordings)
    frames = sum(r.num_frames for r in results.recordings)
    why = (
        "were in stretches with no body part seen longer than the target syllable duration"
        if results.config.get("method") == "keypoint-slds"
        else "had an unsure or missing point, or a NaN input"
    )
    where = (
        f" in {labelled:,} of {frames:,} frames ({100 * labelled / frames:.0f}%; the others {why})"
        if labelled < frames
        else ""
    )
    print(
        f"\n{len(table)} syllables used ({order}){where}; median syllable duration {median}:",
        file=out,
    )
    print(table.head(max_rows).to_string(), file=out)
    if len(table) > max_rows:
        print(f"... {len(table) - max_rows} more syllables", file=out)
    print(file=out)
    if timings:
        print("time: " + ", ".join(f"{k} {v:.2f} s" for k, v in timings.items()), file=out)
    print(f"results: {path}", file=out)
    print(f"per-recording CSVs: {csv_folder(path)}/", file=out)
    print(f"syllable tables: {tables_folder(path)}/", file=out)


def _inputs_words(results) -> str:
    """What the model got from the body parts: the preparation's PCs (``"3 inputs"``), or for
    the keypoint SLDS its latent pose (its own PCA; the preparation's is not used)."""
    if results.config.get("method") == "keypoint-slds":
        dim = getattr(results.model, "latent_dim", None)
        return f"latent pose D = {dim} (the keypoint SLDS's own PCA of the aligned keypoints)"
    return f"{results.preparation.num_inputs} inputs"


def listed(names, limit: int = 3) -> str:
    """``"a, b, c and 4 more"``: the first ``limit`` names, then how many others."""
    names = [str(n) for n in names]
    more = len(names) - limit
    return ", ".join(names[:limit]) + (f" and {more} more" if more > 0 else "")


def refuse_existing(folder: Path, names, overwrite: bool, command: str) -> None:
    """FileExistsError (one line: what exists, and both fixes) when any of ``names`` is in
    ``folder``.

    Called before any work, so a refused run changes nothing.
    """
    if overwrite:
        return
    folder = Path(folder)
    existing = [n for n in names if os.path.lexists(folder / n)]
    if existing:
        raise FileExistsError(
            f"{str(folder)!r} already holds {listed(existing)} from an earlier 'ethogram "
            f"{command}'; pass --overwrite to replace them, or write elsewhere with "
            f"{OUT_OPTION} DIR"
        )


def check_output_folder(folder: Path, names, overwrite: bool, command: str) -> None:
    """Before any work (as :func:`check_output` for a fit's results), the output of a command
    that writes ``names`` into ``folder``: refused when they exist without ``overwrite``
    (:func:`refuse_existing`) or when the folder cannot take files (:func:`check_writable`),
    each in one line, so a refused run changes nothing."""
    refuse_existing(folder, names, overwrite, command)
    check_writable(folder)


@contextlib.contextmanager
def files_swapped_in(folder: Path, names):
    """Write ``names`` into the yielded hidden folder; on leaving, they replace those in ``folder``.

    The new files are built beside ``folder`` (``.<name>.tmp-<pid>``) and moved in only when the
    block ends without error: earlier files of the same names are renamed aside, the new ones
    renamed in, the earlier ones deleted; if a rename fails, the earlier files are put back. A
    failure leaves ``folder`` as it was (and removes the folders this call would have created).
    Other files in ``folder`` are kept.
    """
    folder = Path(folder)
    with built_beside(folder) as build:
        yield build
        missing = [n for n in names if not (build / n).exists()]
        if missing:
            raise RuntimeError(f"internal error: {listed(missing)} not written")
        folder.mkdir(exist_ok=True)
        swap_items(build, folder, names, names)
