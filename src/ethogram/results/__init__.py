"""The results file of a fit: one HDF5 file, one CSV per recording, the syllable tables.

This floor sits above the analysis and the preparation, because a results file holds a fitted
model, its preparation and the syllable tables: :mod:`ethogram.results.data` holds the
in-memory :class:`Results` and :class:`RecordingResult`, :mod:`ethogram.results.hdf5` writes
and reads the HDF5 file (format ``"ethogram-results"``), :mod:`ethogram.results.csv_files` the
CSVs and tables beside it, and :mod:`ethogram.results.labels` reads syllable labels from any
file that holds them (ours, keypoint-moseq's, NWB, CSV). ``ethogram.io.results``, its former
home, still imports with a :class:`DeprecationWarning`.
"""

from .csv_files import (
    TABLE_NAMES,
    csv_folder,
    safe_file_names,
    syllable_tables,
    tables_folder,
    write_csvs,
    write_tables,
)
from .data import RecordingResult, Results
from .hdf5 import (
    FORMAT,
    FORMAT_VERSION,
    library_versions,
    load_model,
    load_results,
    model_frame_rate,
    now_iso,
    write_results,
)
from .labels import read_labels

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "TABLE_NAMES",
    "RecordingResult",
    "Results",
    "csv_folder",
    "library_versions",
    "load_model",
    "load_results",
    "model_frame_rate",
    "now_iso",
    "read_labels",
    "safe_file_names",
    "syllable_tables",
    "tables_folder",
    "write_csvs",
    "write_results",
    "write_tables",
]
