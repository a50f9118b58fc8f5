"""Sequences that stay on disk: EM reads each recording when its E-step job runs.

:class:`OnDiskSequences` is a list of :class:`OnDiskSequence` handles, one per HDF5 dataset
(a recording's frames x features). A handle is a path and a dataset name, small enough to
travel with every job to a thread, a process or a Dask worker (which must see the same
file system); :func:`ethogram.fitting.executors.run_job` reads it (``read_sequence``) right
before the E-step of that sequence, so an EM iteration holds in memory only the recordings
whose jobs are running, their log-likelihoods and posteriors, and the summed statistics:
memory bounded by the number of workers, not the number of recordings. ``HMM.fit`` accepts
an ``OnDiskSequences`` where it takes a list of arrays: it reads each recording once to
check it and to compute its mask (kept: T booleans per recording). One step reads all
recordings together: the default initialisation (``init="kmeans"`` or ``"random"``
concatenates the observed frames and their lags); to stay bounded there too, initialise on a few
recordings and fit from those parameters
(``model.initialize([...]); model.fit(seqs, init="params")``). The fit's ``posterior`` is None
for on-disk data (it would hold every recording's T x K probabilities); use ``predict`` /
``posterior`` on the recordings one at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .._files import written_atomically
from .._hdf5 import open_checked

__all__ = ["FORMAT", "FORMAT_VERSION", "OnDiskSequence", "OnDiskSequences", "write_sequences"]

#: format name and version written by :func:`write_sequences` (file attributes ``format``,
#: ``format_version``); other HDF5 files (no such attributes) are read as they are
FORMAT = "ethogram-sequences"
FORMAT_VERSION = 1


def _open(path):
    """``h5py.File(path, "r")``, with a clear error for a missing, foreign, truncated or newer
    file."""
    return open_checked(
        path,
        FORMAT,
        FORMAT_VERSION,
        "file of recordings",
        older=True,
        foreign=True,
        remedy="give an HDF5 file of recordings, e.g. one written by "
        "ethogram.fitting.write_sequences",
    )


class OnDiskSequence:
    """One sequence stored as an HDF5 dataset, read when needed.

    Parameters
    ----------
    path : str or Path
        The HDF5 file.
    dataset : str
        The dataset's name in the file (e.g. ``"mouse1"`` or ``"recordings/0/inputs"``).

    Attributes
    ----------
    shape : tuple of int
        Shape of the stored array, (T, D) for frames x features.
    dtype : numpy.dtype

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If it is not a readable HDF5 file, or was written by a newer ethogram.
    KeyError
        If the file has no such dataset.
    """

    def __init__(self, path, dataset: str):
        import h5py

        self.path = str(Path(path).expanduser().resolve())
        self.dataset = str(dataset)
        with _open(self.path) as f:
            node = f.get(self.dataset)
            if not isinstance(node, h5py.Dataset):
                raise KeyError(
                    f"{self.path!r} has no dataset {self.dataset!r}; datasets: {_datasets(f)[:20]}"
                )
            self.shape = tuple(int(n) for n in node.shape)
            self.dtype = node.dtype

    @property
    def ndim(self) -> int:
        """Number of dimensions of the stored array."""
        return len(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def read_sequence(self) -> np.ndarray:
        """The whole array, read from the file now.

        Returns
        -------
        ndarray, shape ``self.shape``
        """
        import h5py

        with h5py.File(self.path, "r") as f:
            return f[self.dataset][()]

    def __array__(self, dtype=None, copy=None):
        x = self.read_sequence()
        return x if dtype is None else x.astype(dtype, copy=False)

    def __repr__(self) -> str:
        return f"OnDiskSequence({self.path!r}, {self.dataset!r}, shape={self.shape})"


def _datasets(f) -> list:
    import h5py

    names = []
    f.visititems(lambda name, node: names.append(name) if isinstance(node, h5py.Dataset) else None)
    return names


def _natural(name: str):
    import re

    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


class OnDiskSequences(Sequence):
    """Recordings stored in HDF5 files, given to ``HMM.fit`` instead of a list of arrays.

    Parameters
    ----------
    path : str or Path
        An HDF5 file.
    datasets : list of str, optional
        Dataset names, in the order the sequences are fitted. Default: every dataset in
        the file (in natural order: ``rec2`` before ``rec10``). For a results file of
        ethogram use :meth:`from_results`.

    Raises
    ------
    FileNotFoundError, KeyError
        As :class:`OnDiskSequence`.
    ValueError
        If the file holds no dataset, is not a readable HDF5 file or is of a newer version.
    """

    def __init__(self, path, datasets=None):
        if datasets is None:
            with _open(Path(path).expanduser()) as f:
                datasets = sorted(_datasets(f), key=_natural)
        datasets = [datasets] if isinstance(datasets, str) else list(datasets)
        if not datasets:
            raise ValueError(
                f"{str(path)!r} holds no dataset; write the recordings with write_sequences"
            )
        self._items = [OnDiskSequence(path, name) for name in datasets]

    @classmethod
    def from_sequences(cls, items) -> "OnDiskSequences":
        """Several files: a list of :class:`OnDiskSequence`."""
        out = cls.__new__(cls)
        out._items = list(items)
        if not out._items or not all(isinstance(s, OnDiskSequence) for s in out._items):
            raise TypeError("items must be a non-empty list of OnDiskSequence")
        return out

    @classmethod
    def from_results(cls, path) -> "OnDiskSequences":
        """The model inputs (``/recordings/<i>/inputs``, NaN where masked) of an ethogram results
        file."""
        with _open(Path(path).expanduser()) as f:
            if "recordings" not in f:
                raise ValueError(
                    f"{str(path)!r} is not an ethogram results file (no /recordings group)"
                )
            names = sorted(f["recordings"], key=_natural)
        return cls(path, [f"recordings/{n}/inputs" for n in names])

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, i):
        return self._items[i]

    @property
    def num_frames(self) -> int:
        """Frames over all sequences."""
        return int(sum(s.shape[0] for s in self._items))

    def __repr__(self) -> str:
        return f"OnDiskSequences({len(self)} sequences, {self.num_frames} frames)"


def write_sequences(path, arrays, names=None, overwrite=False) -> OnDiskSequences:
    """Write arrays to an HDF5 file (one dataset each, atomically) and return the handles.

    The file carries ``format = "ethogram-sequences"`` and ``format_version`` attributes,
    checked when it is read.

    Parameters
    ----------
    path : str or Path
        The file to create.
    arrays : list of array_like
        One (T_i, D) array per recording.
    names : list of str, optional
        Dataset names (default ``seq0, seq1, ...``).
    overwrite : bool, default False
        Replace ``path`` if it exists.

    Returns
    -------
    OnDiskSequences

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is False.
    ValueError
        If ``names`` are not one distinct name per array.
    """
    import h5py

    path = Path(path).expanduser()
    names = [f"seq{i}" for i in range(len(arrays))] if names is None else [str(n) for n in names]
    if len(names) != len(arrays) or len(set(names)) != len(names):
        raise ValueError(
            f"names must be {len(arrays)} distinct names, one per array, got {names!r}"
        )
    if path.exists() and not overwrite:
        raise FileExistsError(
            f"path {str(path)!r} exists; pass overwrite=True to replace it, or choose another path"
        )
    with written_atomically(path, prefix=".") as tmp, h5py.File(tmp, "w") as f:
        f.attrs["format"] = FORMAT
        f.attrs["format_version"] = FORMAT_VERSION
        for n, a in zip(names, arrays):
            f.create_dataset(n, data=np.asarray(a))
    return OnDiskSequences(path, names)
