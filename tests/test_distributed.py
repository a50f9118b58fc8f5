"""EM on a Dask cluster: a LocalCluster of 2 worker processes gives the local fit's bits.

- ``HMM.fit(..., client=...)`` returns the same parameters and objective history as the
  default (threaded) fit, compared with ``==`` (bit for bit), for an ARHMM and a Gaussian HMM
  on sequences of different lengths with masks, restarts and short starts;
- the sequences are sent once: across a whole fit the cluster holds one copy of each array,
  spread over both workers (checked on the workers themselves);
- recordings left on disk (OnDiskSequences) are read by the workers: same bits again;
- ``ethogram fit --scheduler ADDRESS`` writes the same model as ``ethogram fit``;
- a worker restarted mid-fit loses its sequences: they are sent again, same statistics;
- the executor keeps input order for plain (non-tuple) jobs and names its errors;
- the Gibbs loop's local steps on the cluster give the serial run's bits.
"""

import numpy as np
import pytest

from _same_fit import assert_same_fit
from ethogram import HMM
from ethogram.fitting import e_step
from ethogram.fitting.distributed import DaskExecutor, connect


@pytest.fixture(scope="module")
def client():
    """A LocalCluster of 2 worker processes. Every test here takes it: without distributed they
    are skipped (it is imported here, not when the tests are collected: about 1 s of CPU for
    each pytest worker, most of which run none of these tests)."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        with distributed.Client(cluster) as c:
            yield c


def _sequences(seed=0, lengths=(400, 250, 600, 150, 350), D=3):
    rng = np.random.default_rng(seed)
    sequences, masks = [], []
    for T in lengths:
        z = np.repeat(rng.integers(0, 3, T // 25 + 1), 25)[:T]
        x = np.zeros((T, D))
        for t in range(1, T):
            x[t] = 0.8 * x[t - 1] + (z[t] - 1.0) + 0.3 * rng.normal(size=D)
        m = rng.random(T) > 0.05
        sequences.append(x)
        masks.append(m)
    return sequences, masks


@pytest.mark.parametrize(
    "obs,kwargs",
    [
        ("autoregressive", dict(data_dim=3, num_lags=2)),
        ("gaussian", dict(data_dim=3, covariance_type="full")),
    ],
)
def test_cluster_fit_is_bit_identical_to_local(client, obs, kwargs):
    sequences, masks = _sequences()
    local = HMM(4, obs, kwargs, kappa=50.0)
    r_local = local.fit(sequences, mask=masks, num_iters=12, num_restarts=2, seed=3, progress=False)
    remote = HMM(4, obs, kwargs, kappa=50.0)
    r_remote = remote.fit(
        sequences, mask=masks, num_iters=12, num_restarts=2, seed=3, progress=False, client=client
    )
    assert r_local.num_iters > 2  # EM really iterated
    assert_same_fit(local, r_local, remote, r_remote)
    # and the serial loop, one sequence after the other, agrees too
    serial = HMM(4, obs, kwargs, kappa=50.0)
    r_serial = serial.fit(
        sequences, mask=masks, num_iters=12, num_restarts=2, seed=3, progress=False, num_threads=1
    )
    assert_same_fit(serial, r_serial, remote, r_remote)


def _worker_keys(dask_worker):
    return {str(k): int(getattr(v, "nbytes", 0)) for k, v in dask_worker.data.items()}


def test_sequences_sent_once_and_spread_over_workers(client):
    sequences, masks = _sequences(seed=1, lengths=(500, 480, 300, 310))
    model = HMM(3, "autoregressive", dict(data_dim=3, num_lags=1))
    model.initialize(sequences, masks, seed=0)
    ex = DaskExecutor(client)
    stats_before = e_step(model, sequences, masks, executor=ex)
    kept = {id(a): f.key for a, f in ex._kept.values()}
    for _ in range(3):
        stats = e_step(model, sequences, masks, executor=ex)
    # nothing new was sent: the same futures, one per array (data and effective mask)
    assert {id(a): f.key for a, f in ex._kept.values()} == kept
    assert len(kept) == 2 * len(sequences)
    # each sequence lives on exactly one worker, and both workers hold some
    held = client.run(_worker_keys)
    holders = {
        key: [w for w, keys in held.items() if key in keys]
        for key in (ex._kept[id(d)][1].key for d in sequences)
    }
    assert all(len(ws) == 1 for ws in holders.values()), holders
    assert len({ws[0] for ws in holders.values()}) == 2
    # the statistics do not change with repetition, and equal the local ones
    local = e_step(model, sequences, masks, num_threads=1)
    assert stats.marginal_ll == stats_before.marginal_ll == local.marginal_ll
    for k in local.observations:
        np.testing.assert_array_equal(stats.observations[k], local.observations[k])
    np.testing.assert_array_equal(stats.expected_transitions, local.expected_transitions)
    ex.close()
    assert not ex._kept


def _square(x):
    return x * x


def test_plain_jobs_keep_order_and_errors_are_named(client):
    ex = DaskExecutor(client)
    assert ex.map(_square, range(7)) == [x * x for x in range(7)]
    assert ex.map(_square, []) == []
    with pytest.raises(TypeError, match="client must be a distributed.Client"):
        DaskExecutor("tcp://nowhere:1")
    with pytest.raises(TypeError, match="scheduler must be an address"):
        connect(42)
    assert connect(client) is client
    with pytest.raises(ValueError, match="either client or executor"):
        HMM(2, "gaussian", dict(data_dim=1)).fit(np.zeros((10, 1)), client=client, executor=ex)


def test_on_disk_sequences_on_the_cluster(client, tmp_path):
    from ethogram.fitting.ondisk import write_sequences

    sequences, masks = _sequences(seed=2, lengths=(300, 450, 200))
    seqs = write_sequences(tmp_path / "recs.h5", sequences)
    local = HMM(3, "autoregressive", dict(data_dim=3, num_lags=1))
    r_local = local.fit(sequences, mask=masks, num_iters=8, seed=0, progress=False)
    remote = HMM(3, "autoregressive", dict(data_dim=3, num_lags=1))
    r_remote = remote.fit(seqs, mask=masks, num_iters=8, seed=0, progress=False, client=client)
    assert_same_fit(local, r_local, remote, r_remote)


def test_cli_fit_with_scheduler_matches_local(client, tmp_path):
    import h5py

    rng = np.random.default_rng(5)
    folder = tmp_path / "in"
    folder.mkdir()
    for i, T in enumerate((1500, 2000)):
        z = np.repeat(rng.integers(0, 3, T // 30 + 1), 30)[:T]
        x = np.zeros((T, 3))
        for t in range(1, T):
            x[t] = 0.9 * x[t - 1] + 0.3 * (z[t] - 1.0) + 0.2 * rng.normal(size=3)
        np.save(folder / f"m{i}.npy", x)
    common = [
        "fit",
        folder,
        "--format",
        "npy",
        "--fps",
        "30",
        "--states",
        "4",
        "--lags",
        "1",
        "--iters",
        "10",
        "--quiet",
    ]
    # in this process, as `ethogram fit` runs them (cli.main): what is checked is the
    # --scheduler option's path to the cluster's worker processes, not the interpreter's start
    # (a subprocess each cost 4 s of imports; the SIGKILL test keeps a real one)
    from ethogram.cli import main

    outs = {}
    for name, extra in (("local", []), ("cluster", ["--scheduler", client.scheduler.address])):
        code = main([*map(str, common), "-o", str(tmp_path / name), *extra])
        assert code == 0
        with h5py.File(tmp_path / name / "results.h5", "r") as f:
            outs[name] = {
                k: f["model"][k][()] for k in f["model"] if isinstance(f["model"][k], h5py.Dataset)
            }
            outs[name]["objectives"] = f["fit/objectives"][()]
    assert outs["local"].keys() == outs["cluster"].keys() and len(outs["local"]["objectives"]) > 3
    for k in outs["local"]:
        np.testing.assert_array_equal(outs["cluster"][k], outs["local"][k], err_msg=k)


def test_a_lost_worker_is_survived(client):
    sequences, masks = _sequences(seed=3, lengths=(300, 200, 250, 350))
    model = HMM(3, "autoregressive", dict(data_dim=3, num_lags=1))
    model.initialize(sequences, masks, seed=0)
    ms = [
        model.observations.effective_mask(model.observations.check_data(d), m)
        for d, m in zip(sequences, masks)
    ]
    ex = DaskExecutor(client)
    before = e_step(model, sequences, ms, executor=ex)
    workers = sorted(client.scheduler_info()["workers"])
    on_first = [a for a, f in ex._kept.values() if ex._where[f.key] == (workers[0],)]
    assert on_first  # the restarted worker held some sequences
    client.restart_workers([workers[0]])
    assert any(f.status != "finished" for _, f in ex._kept.values())  # their copies are gone
    after = e_step(model, sequences, ms, executor=ex)  # sent again, retried once
    assert all(f.status == "finished" for _, f in ex._kept.values())
    assert after.marginal_ll == before.marginal_ll
    for k in before.observations:
        np.testing.assert_array_equal(after.observations[k], before.observations[k])


def test_gibbs_fit_on_the_cluster_is_bit_identical(client):
    """The Gibbs loop's local steps on the cluster: the serial run's bits."""
    from _arhmm_data import draw_sequences, small_model
    from ethogram.fitting.executors import SerialExecutor
    from test_gibbs_loop import SETTINGS, assert_same_run

    sequences, masks, _ = draw_sequences()
    ref = small_model().fit(
        sequences, masks, SETTINGS, seed=5, executor=SerialExecutor(), progress=False
    )
    with DaskExecutor(client) as ex:
        got = small_model().fit(sequences, masks, SETTINGS, seed=5, executor=ex, progress=False)
    assert_same_run(ref.run, got.run)
