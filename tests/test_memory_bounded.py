"""Bounded memory: the E-step keeps per-sequence statistics only, and recordings may stay on disk.

- a fit from :class:`OnDiskSequences` (HDF5, one dataset per recording, NaN rows and masks)
  gives the bits of the same fit from arrays in memory, on threads, serially and on a
  process pool; its ``posterior`` is None (never every recording's T x K at once);
- during an E-step over on-disk recordings at most one recording per worker is in memory
  at any moment (counted by the arrays alive), and the peak memory of an E-step
  (tracemalloc) does not grow with the number of recordings (8 against 2): posteriors are
  reduced to statistics sequence by sequence;
- the handles read what h5py reads, in natural order, from results files too, and name
  their errors.
"""

import tracemalloc
import weakref

import h5py
import numpy as np
import pytest

from _same_fit import assert_same_fit
from ethogram import HMM
from ethogram.fitting import SerialExecutor, e_step
from ethogram.fitting import ondisk as od
from ethogram.fitting.ondisk import OnDiskSequence, OnDiskSequences, write_sequences


def _sequences(n=4, seed=0, D=3):
    rng = np.random.default_rng(seed)
    sequences, masks = [], []
    for i in range(n):
        T = int(rng.integers(200, 500))
        z = np.repeat(rng.integers(0, 3, T // 25 + 1), 25)[:T]
        x = np.zeros((T, D))
        for t in range(1, T):
            x[t] = 0.8 * x[t - 1] + (z[t] - 1.0) + 0.3 * rng.normal(size=D)
        x[rng.random(T) < 0.02] = np.nan
        sequences.append(x)
        masks.append(rng.random(T) > 0.03)
    return sequences, masks


@pytest.mark.parametrize("num_threads", [1, 2])
def test_on_disk_fit_equals_in_memory_fit(tmp_path, num_threads):
    sequences, masks = _sequences()
    seqs = write_sequences(tmp_path / "recs.h5", sequences)
    kw = dict(num_iters=10, seed=4, num_restarts=2, progress=False, num_threads=num_threads)
    mem = HMM(3, "autoregressive", dict(data_dim=3, num_lags=2), kappa=30.0)
    r_mem = mem.fit(sequences, mask=masks, **kw)
    disk = HMM(3, "autoregressive", dict(data_dim=3, num_lags=2), kappa=30.0)
    r_disk = disk.fit(seqs, mask=masks, **kw)
    assert r_mem.num_iters > 2
    assert_same_fit(mem, r_mem, disk, r_disk)
    assert r_disk.posterior is None


def test_on_disk_fit_from_parameters_initialised_on_two_recordings(tmp_path):
    """The bounded workflow: initialised on two recordings, then fitted from those parameters
    (no num_threads: once, not again for each thread count above)."""
    sequences, masks = _sequences()
    seqs = write_sequences(tmp_path / "recs.h5", sequences)
    a = HMM(3, "autoregressive", dict(data_dim=3, num_lags=2))
    a.initialize(sequences[:2], masks[:2], seed=1)
    b = HMM.from_description(a.describe(), a.get_params())
    assert_same_fit(
        a,
        a.fit(sequences, mask=masks, init="params", num_iters=5, progress=False),
        b,
        b.fit(seqs, mask=masks, init="params", num_iters=5, progress=False),
    )


class _Counted(OnDiskSequence):
    """A handle that counts the arrays it read that are still alive."""

    alive = 0
    most = 0

    def read_sequence(self):
        x = super().read_sequence()
        _Counted.alive += 1
        _Counted.most = max(_Counted.most, _Counted.alive)
        weakref.finalize(x, _Counted._gone)
        return x

    @staticmethod
    def _gone():
        _Counted.alive -= 1


def _counted(seqs):
    return od.OnDiskSequences.from_sequences([_Counted(s.path, s.dataset) for s in seqs])


def test_one_recording_per_worker_in_memory(tmp_path):
    sequences, masks = _sequences(n=6, seed=1)
    seqs = _counted(write_sequences(tmp_path / "recs.h5", sequences))
    model = HMM(3, "autoregressive", dict(data_dim=3, num_lags=1))
    model.initialize(sequences, masks, seed=0)
    ms = [
        model.observations.effective_mask(model.observations.check_data(d), m & ~np.isnan(d).any(1))
        for d, m in zip(sequences, masks)
    ]
    _Counted.alive = _Counted.most = 0
    e_step(model, list(seqs), ms, executor=SerialExecutor())
    assert _Counted.most == 1 and _Counted.alive == 0
    _Counted.alive = _Counted.most = 0
    stats = e_step(model, list(seqs), ms, num_threads=2)
    assert 1 <= _Counted.most <= 2 and _Counted.alive == 0
    # and the statistics are those of the arrays in memory
    ref = e_step(model, sequences, ms, num_threads=1)
    assert stats.marginal_ll == ref.marginal_ll
    for k in ref.observations:
        np.testing.assert_array_equal(stats.observations[k], ref.observations[k])


def _peak_e_step(model, seqs, ms) -> int:
    e_step(model, seqs, ms, executor=SerialExecutor())  # warm caches (numba, rebuilt model)
    tracemalloc.start()
    try:
        e_step(model, seqs, ms, executor=SerialExecutor())
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_e_step_peak_memory_does_not_grow_with_recordings(tmp_path):
    rng = np.random.default_rng(2)
    T, D, K = 6000, 3, 12
    sequences = [
        np.cumsum(rng.normal(size=(T, D)), axis=0) * 0.05 + rng.normal(size=(T, D))
        for _ in range(8)
    ]
    seqs = write_sequences(tmp_path / "recs.h5", sequences)
    model = HMM(K, "autoregressive", dict(data_dim=D, num_lags=1))
    model.initialize(sequences[:2], seed=0)
    ms = [model.observations.effective_mask(d, None) for d in sequences]
    two = _peak_e_step(model, list(seqs)[:2], ms[:2])
    eight = _peak_e_step(model, list(seqs), ms)
    one_posterior = T * K * 8
    assert two > 2 * one_posterior  # the measurement sees the per-sequence arrays
    # holding 6 more posteriors (or recordings) would add >= 6 * one_posterior
    assert eight < two + one_posterior, (two, eight, one_posterior)


def test_handles_read_what_h5py_reads(tmp_path):
    rng = np.random.default_rng(3)
    arrays = {f"rec{i}": rng.normal(size=(5 + i, 2)) for i in (10, 2, 1)}
    path = tmp_path / "f.h5"
    with h5py.File(path, "w") as f:
        for k, v in arrays.items():
            f.create_dataset(f"group/{k}", data=v)
    seqs = OnDiskSequences(path)
    assert [s.dataset for s in seqs] == ["group/rec1", "group/rec2", "group/rec10"]  # natural order
    for s in seqs:
        with h5py.File(path, "r") as f:
            np.testing.assert_array_equal(s.read_sequence(), f[s.dataset][()])
        assert (
            s.shape == arrays[s.dataset.split("/")[1]].shape
            and len(s) == s.shape[0]
            and s.ndim == 2
        )
        np.testing.assert_array_equal(
            np.asarray(s, dtype=np.float32), f32 := s.read_sequence().astype(np.float32)
        )
        assert f32.dtype == np.float32
    assert seqs.num_frames == sum(v.shape[0] for v in arrays.values()) and len(seqs) == 3
    with pytest.raises(FileNotFoundError, match="does not exist"):
        OnDiskSequences(tmp_path / "nope.h5")
    with pytest.raises(KeyError, match="no dataset 'missing'"):
        OnDiskSequence(path, "missing")
    with h5py.File(tmp_path / "empty.h5", "w"):
        pass
    with pytest.raises(ValueError, match="holds no dataset"):
        OnDiskSequences(tmp_path / "empty.h5")
    with pytest.raises(ValueError, match="distinct names"):
        write_sequences(tmp_path / "w.h5", [np.zeros((3, 1))] * 2, names=["a", "a"])
    # a results file's model inputs
    with h5py.File(tmp_path / "results.h5", "w") as f:
        for i in (0, 1, 11, 2):
            f.create_dataset(f"recordings/{i}/inputs", data=np.full((4, 2), float(i)))
    res = OnDiskSequences.from_results(tmp_path / "results.h5")
    assert [s.dataset for s in res] == [f"recordings/{i}/inputs" for i in (0, 1, 2, 11)]
    assert res[3].read_sequence()[0, 0] == 11.0


def test_fit_without_posterior():
    sequences, masks = _sequences(n=3, seed=5)
    a, b = (HMM(3, "gaussian", dict(data_dim=3)) for _ in range(2))
    ra = a.fit(sequences, mask=masks, num_iters=6, seed=0, progress=False)
    rb = b.fit(sequences, mask=masks, num_iters=6, seed=0, progress=False, posterior=False)
    assert_same_fit(a, ra, b, rb)
    assert rb.posterior is None and len(ra.posterior) == 3


def test_on_disk_on_a_process_pool(tmp_path):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    sequences, masks = _sequences(n=3, seed=6)
    seqs = write_sequences(tmp_path / "recs.h5", sequences)
    a, b = (HMM(3, "autoregressive", dict(data_dim=3, num_lags=1)) for _ in range(2))
    ra = a.fit(sequences, mask=masks, num_iters=5, seed=0, progress=False, num_threads=1)
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        rb = b.fit(seqs, mask=masks, num_iters=5, seed=0, progress=False, executor=pool)
    assert_same_fit(a, ra, b, rb)


def test_sequences_file_is_versioned_and_never_replaced_silently(tmp_path):
    path = tmp_path / "recs.h5"
    x = np.arange(12.0).reshape(6, 2)
    write_sequences(path, [x])
    with h5py.File(path, "r") as f:
        assert (
            f.attrs["format"] == od.FORMAT and int(f.attrs["format_version"]) == od.FORMAT_VERSION
        )
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_sequences(path, [x + 1])
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["recs.h5"]  # no temporary file left
    np.testing.assert_array_equal(
        write_sequences(path, [x + 1], overwrite=True)[0].read_sequence(), x + 1
    )
    # a file of a newer format version is refused, naming the fix
    with h5py.File(path, "a") as f:
        f.attrs["format_version"] = od.FORMAT_VERSION + 1
    with pytest.raises(ValueError, match="newer than this ethogram reads.*upgrade"):
        OnDiskSequences(path)
    with pytest.raises(ValueError, match="newer than this ethogram reads"):
        OnDiskSequence(path, "seq0")


@pytest.mark.parametrize("content", [b"", b"not an hdf5 file at all", None])
def test_truncated_or_foreign_sequences_file_is_refused(tmp_path, content):
    path = tmp_path / "recs.h5"
    if content is None:  # a real file cut in half
        write_sequences(path, [np.zeros((1000, 3))])
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    else:
        path.write_bytes(content)
    with pytest.raises(ValueError, match="not a readable HDF5 file.*write_sequences"):
        OnDiskSequences(path)
