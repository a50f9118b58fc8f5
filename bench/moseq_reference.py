"""Reference numbers from MoSeq's own code: jax-moseq 0.3.7's log joint and initialisation.

Run with the reference environment's Python (never the project's .venv, which has no jax), it
evaluates jax-moseq's log joint per group and ARHMM marginal log-likelihood at given values (an
.npz model or a keypoint-moseq checkpoint), dumps keypoint-moseq's data pipeline and jax-moseq's
own initialisation as .npz in jax-moseq's names and shapes, and self-tests against a numpy
transcription of docs/moseq_reference.md. The commands and the .npz layout: ``--help``.
"""

from __future__ import annotations

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("JAX_ENABLE_X64", "1")

import argparse
import json
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402  (after jax.config.update: x64 set before jax.numpy)

INT_HYPPARAMS = {"num_states", "nlags", "latent_dim", "nu_0"}


def versions() -> dict:
    out = {}
    for name in ("jax-moseq", "keypoint-moseq", "jax", "jaxlib", "dynamax", "numpy"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    out["x64"] = bool(jax.config.jax_enable_x64)
    return out


# ----------------------------------------------------------------------------- .npz model files


def _flatten(prefix: str, tree, out: dict) -> None:
    if isinstance(tree, dict):
        for key, value in tree.items():
            _flatten(f"{prefix}/{key}" if prefix else str(key), value, out)
    elif tree is not None:
        out[prefix] = np.asarray(jax.device_get(tree))


def save_model(path, data: dict, model: dict, extra: dict | None = None) -> None:
    """Write data and a jax-moseq model dict (states, params, hypparams, noise_prior, seed)."""
    flat: dict = {}
    _flatten("data", {k: v for k, v in data.items() if v is not None}, flat)
    for group in ("states", "params", "hypparams"):
        _flatten(group, model.get(group), flat)
    if model.get("noise_prior") is not None:
        flat["noise_prior"] = np.asarray(model["noise_prior"], dtype=np.float64)
    flat["seed"] = np.asarray(
        jax.random.key_data(model["seed"])
        if jnp.issubdtype(jnp.asarray(model["seed"]).dtype, jax.dtypes.prng_key)
        else model["seed"]
    )
    _flatten("", extra or {}, flat)
    np.savez(path, **flat)


def load_model(path) -> tuple[dict, dict]:
    """Read a file written by :func:`save_model` (or by hand in its layout): (data, model)."""
    with np.load(path, allow_pickle=False) as f:
        flat = {k: f[k] for k in f.files}
    model: dict = {"states": {}, "params": {}, "hypparams": {}}
    data: dict = {}
    for key, value in flat.items():
        parts = key.split("/")
        if parts[0] == "data":
            data[parts[1]] = jnp.asarray(value)
        elif parts[0] in ("states", "params"):
            dtype = jnp.int64 if parts[1] == "z" else jnp.float64
            model[parts[0]][parts[1]] = jnp.asarray(value, dtype=dtype)
        elif parts[0] == "hypparams":
            group = model["hypparams"].setdefault(parts[1], {})
            if value.ndim == 0:
                value = int(value) if parts[2] in INT_HYPPARAMS else float(value)
            else:
                value = jnp.asarray(value)
            group[parts[2]] = value
        elif key == "noise_prior":
            model["noise_prior"] = jnp.asarray(value)
        elif key == "seed":
            model["seed"] = jnp.asarray(value, dtype=jnp.uint32)
    if "mask" not in data:
        raise ValueError(f"{path}: no data/mask array; see this script's docstring for the layout")
    return data, model


# ----------------------------------------------------------------------------- log joint


def log_joint(data: dict, model: dict) -> dict:
    """jax-moseq's model_likelihood per group and the ARHMM marginal log-likelihood."""
    from jax_moseq.models import arhmm, keypoint_slds

    states, params = model["states"], model["params"]
    if "Y" in data:
        ll = keypoint_slds.model_likelihood(
            {k: data[k] for k in ("Y", "mask")},
            states,
            params,
            model["hypparams"],
            model["noise_prior"],
        )
        x = states["x"]
        kind = "keypoint_slds"
    else:
        ll = arhmm.model_likelihood({"x": data["x"], "mask": data["mask"]}, states, params)
        x = data["x"]
        kind = "arhmm"
    groups = {k: float(v) for k, v in ll.items()}
    mll = arhmm.marginal_log_likelihood(data["mask"], x, params["Ab"], params["Q"], params["pi"])
    return {
        "model": kind,
        "log_joint": groups,
        "log_joint_total": float(sum(groups.values())),
        "marginal_loglik": float(mll),
    }


def per_segment(data: dict, model: dict) -> list[dict]:
    """The same numbers for each segment alone (slices of every per-segment array)."""
    out = []
    n_seg = data["mask"].shape[0]
    for i in range(n_seg):
        d = {k: v[i : i + 1] for k, v in data.items() if k != "conf"}
        m = dict(model, states={k: v[i : i + 1] for k, v in model["states"].items()})
        if np.ndim(model.get("noise_prior", 1.0)) == 3:
            m["noise_prior"] = model["noise_prior"][i : i + 1]
        out.append(log_joint(d, m))
    return out


def load_checkpoint(path, iteration=None) -> tuple[dict, dict, int]:
    """A keypoint-moseq checkpoint.h5 snapshot: (data, model, it).

    The last unless ``iteration``.
    """
    from keypoint_moseq.io import load_checkpoint as kpms_load

    model, data, _, it = kpms_load(path=str(path), iteration=iteration)
    data = {k: jnp.asarray(v) for k, v in data.items()}
    model["states"] = {
        k: jnp.asarray(v, dtype=jnp.int64 if k == "z" else jnp.float64)
        for k, v in model["states"].items()
    }
    model["params"] = {k: jnp.asarray(v) for k, v in model["params"].items()}
    model["noise_prior"] = jnp.asarray(model["noise_prior"])
    model["seed"] = jnp.asarray(model["seed"], dtype=jnp.uint32)
    return data, model, int(it)


def cmd_loglik(args) -> dict:
    if args.model.suffix in (".h5", ".hdf5"):
        data, model, it = load_checkpoint(args.model, args.iteration)
        if args.dump:
            save_model(args.dump, data, model)
    else:
        data, model = load_model(args.model)
        it = None
    out = {
        "versions": versions(),
        "file": str(args.model),
        "iteration": it,
        **log_joint(data, model),
    }
    if args.per_segment:
        out["per_segment"] = per_segment(data, model)
    return out


# ----------------------------------------------------------------------------- init


def _project_config(bodyparts: list, anterior: list, posterior: list, fps: float, **overrides):
    """keypoint-moseq's config (its generate_config defaults) for these body parts."""
    import keypoint_moseq as kpms

    project = tempfile.mkdtemp(prefix="kpms-ref-")
    kpms.setup_project(
        project,
        overwrite=True,
        bodyparts=bodyparts,
        use_bodyparts=bodyparts,
        skeleton=[],
        anterior_bodyparts=anterior,
        posterior_bodyparts=posterior,
        fps=fps,
        video_dir=project,
    )
    if overrides:
        kpms.update_config(project, **overrides)
    return project, kpms.load_config(project)


def _read_recordings(args) -> tuple[dict, dict, list]:
    """(coordinates, confidences, bodyparts) from a pose file or an .npz of recordings."""
    import keypoint_moseq as kpms

    if args.keypoints:
        coords, confs, bodyparts = kpms.load_keypoints(args.keypoints, args.format)
    else:
        with np.load(args.data, allow_pickle=False) as f:
            Y = np.asarray(f["Y"], dtype=np.float64)
            conf = np.asarray(f["conf"], dtype=np.float64) if "conf" in f.files else None
        if Y.ndim == 3:
            Y, conf = Y[None], (None if conf is None else conf[None])
        names = [f"rec{i}" for i in range(len(Y))]
        coords = dict(zip(names, Y))
        confs = (
            dict(zip(names, conf))
            if conf is not None
            else {n: np.ones(y.shape[:2]) for n, y in coords.items()}
        )
        bodyparts = [f"bp{k}" for k in range(Y.shape[2])]
    coords = {k: np.asarray(v, dtype=np.float64) for k, v in coords.items()}
    confs = {k: np.asarray(v, dtype=np.float64) for k, v in confs.items()}
    return coords, confs, list(bodyparts)


def latent_dim_for(pca, variance: float) -> int:
    """The tutorial's rule: the number of PCs explaining ``variance`` of the variance.

    At most 10.
    """
    cs = np.cumsum(pca.explained_variance_ratio_)
    return int(min(10, np.searchsorted(cs, variance) + 1))


def run_sweeps(model: dict, data: dict, n: int, ar_only: bool) -> dict:
    """n Gibbs sweeps of jax-moseq's keypoint_slds.resample_model, as fit_model runs them on CPU."""
    from jax_moseq.models import keypoint_slds

    for _ in range(n):
        model = keypoint_slds.resample_model(
            data, **model, ar_only=ar_only, jitter=1e-3, parallel_message_passing=False
        )
    return model


def cmd_init(args) -> dict:
    import keypoint_moseq as kpms
    from keypoint_moseq.util import estimate_sigmasq_loc

    coords, confs, bodyparts = _read_recordings(args)
    anterior = args.anterior or [bodyparts[0]]
    posterior = args.posterior or [bodyparts[-1]]
    _, config = _project_config(bodyparts, anterior, posterior, args.fps)
    data, meta = kpms.format_data(coords, confs, **config)
    if not args.keep_sigmasq_loc:
        config["cen_hypparams"]["sigmasq_loc"] = estimate_sigmasq_loc(
            data["Y"], data["mask"], filter_size=int(config["fps"])
        )
    pca = kpms.fit_pca(**data, **config)
    config["ar_hypparams"]["latent_dim"] = args.latent_dim or latent_dim_for(pca, args.variance)
    if args.num_states:
        config["trans_hypparams"]["num_states"] = args.num_states
    model = kpms.init_model(data, pca=pca, **config)
    model = kpms.update_hypparams(model, kappa=float(args.kappa_ar))
    t0 = time.perf_counter()
    if args.ar_iters:
        model = run_sweeps(model, data, args.ar_iters, ar_only=True)
    if args.full_iters:
        model = kpms.update_hypparams(model, kappa=float(args.kappa_full))
        model = run_sweeps(model, data, args.full_iters, ar_only=False)
    sweep_seconds = time.perf_counter() - t0
    keys, bounds = meta
    extra = {
        "metadata": {"keys": np.asarray(keys, dtype=str).astype("U"), "bounds": np.asarray(bounds)},
        "pca": {
            "components": pca.components_,
            "mean": pca.mean_,
            "explained_variance_ratio": pca.explained_variance_ratio_,
        },
        "config": {
            "conf_threshold": config["conf_threshold"],
            "fps": config["fps"],
            "added_noise_level": config["added_noise_level"],
            "conf_pseudocount": config["conf_pseudocount"],
            "error_estimator": config["error_estimator"],
            "anterior_idxs": np.asarray(config["anterior_idxs"]),
            "posterior_idxs": np.asarray(config["posterior_idxs"]),
            "bodyparts": np.asarray(bodyparts, dtype="U"),
        },
    }
    save_model(args.output, dict(data), model, extra)
    data2, model2 = load_model(args.output)
    out = {
        "versions": versions(),
        "file": str(args.output),
        "bodyparts": bodyparts,
        "anterior": anterior,
        "posterior": posterior,
        "latent_dim": config["ar_hypparams"]["latent_dim"],
        "sigmasq_loc": config["cen_hypparams"]["sigmasq_loc"],
        "segments": list(np.asarray(data["mask"]).shape),
        "frames": int(np.asarray(data["mask"]).sum()),
        "ar_iters": args.ar_iters,
        "full_iters": args.full_iters,
        "sweep_seconds": sweep_seconds,
        **log_joint(data2, model2),
    }
    return out


# ----------------------------------------------------------------------------- CLI


_HELP = """\
Run with the reference environment's Python (`bash bench/make_reference_env.sh` builds it;
never the project's .venv, which has no jax)::

    PY=bench/.venv-moseq/bin/python
    # 1. log joint per group (jax-moseq model_likelihood) + marginal_log_likelihood, as JSON,
    #    of an .npz model or of a keypoint-moseq checkpoint.h5 snapshot (optionally dumped as .npz)
    $PY bench/moseq_reference.py loglik model.npz -o loglik.json [--per-segment]
    $PY bench/moseq_reference.py loglik PROJECT/MODEL/checkpoint.h5 [--iteration 550] [--dump m.npz]
    # 2. keypoint-moseq's data pipeline + jax-moseq's init_model (+ optional Gibbs sweeps),
    #    dumped as .npz in jax-moseq's own names and shapes, with its log joint as JSON
    $PY bench/moseq_reference.py init --keypoints /work/shared/data/openfield/keypoints.csv \\
        --format deeplabcut --fps 30 --anterior snout --posterior tailbase \\
        [--ar-iters 5] [--full-iters 5] -o openfield_model.npz
    $PY bench/moseq_reference.py init --data recordings.npz -o model.npz   # Y (R,T,K,D), conf
    # 3. self-test on a tiny synthetic problem: init, sweeps, dump, reload, log joint by
    #    jax-moseq and by an independent numpy transcription of docs/moseq_reference.md
    $PY bench/moseq_reference.py selftest [-o selftest.json]

The .npz layout (names and shapes as in jax-moseq's model dict): docs/moseq_reference.md, 11.
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser(
        "loglik", help="log joint per group + marginal log-likelihood of an .npz model"
    )
    a.add_argument(
        "model", type=Path, help=".npz in the layout above, or a keypoint-moseq checkpoint.h5"
    )
    a.add_argument("--iteration", type=int, help="checkpoint snapshot (default: the last)")
    a.add_argument(
        "--dump", type=Path, help="also write the checkpoint snapshot as .npz in the layout above"
    )
    a.add_argument(
        "--per-segment", action="store_true", help="also the numbers of each segment alone"
    )
    a.add_argument("-o", "--output", type=Path, help="JSON file (default: stdout)")
    b = sub.add_parser(
        "init", help="keypoint-moseq data pipeline + jax-moseq init_model, dumped as .npz"
    )
    src = b.add_mutually_exclusive_group(required=True)
    src.add_argument("--keypoints", help="pose file(s) keypoint-moseq's load_keypoints reads")
    src.add_argument("--data", type=Path, help=".npz with Y (R,T,K,D) or (T,K,D) and optional conf")
    b.add_argument(
        "--format", default="deeplabcut", help="load_keypoints format (deeplabcut, sleap, ...)"
    )
    b.add_argument(
        "--fps", type=float, default=30.0, help="frames per second (config fps, sigmasq_loc filter)"
    )
    b.add_argument("--anterior", nargs="+", help="anterior body parts (default: the first)")
    b.add_argument("--posterior", nargs="+", help="posterior body parts (default: the last)")
    b.add_argument(
        "--latent-dim", type=int, help="latent_dim (default: PCs for --variance, at most 10)"
    )
    b.add_argument("--variance", type=float, default=0.9, help="explained variance for latent_dim")
    b.add_argument("--num-states", type=int, help="num_states (default: the config's 100)")
    b.add_argument(
        "--keep-sigmasq-loc",
        action="store_true",
        help="keep the config's sigmasq_loc 0.5 instead of estimate_sigmasq_loc "
        "(the tutorial's step)",
    )
    b.add_argument("--kappa-ar", type=float, default=1e6, help="kappa for the AR-only sweeps")
    b.add_argument("--kappa-full", type=float, default=1e4, help="kappa for the full-model sweeps")
    b.add_argument("--ar-iters", type=int, default=0, help="AR-only Gibbs sweeps after init")
    b.add_argument("--full-iters", type=int, default=0, help="full-model Gibbs sweeps after those")
    b.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        help=".npz to write (JSON goes to stdout or --json)",
    )
    b.add_argument("--json", type=Path, help="JSON file for the summary and log joint")
    c = sub.add_parser(
        "selftest", help="tiny synthetic problem: jax-moseq against a numpy transcription"
    )
    c.add_argument("-o", "--output", type=Path, help="JSON file (default: stdout)")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.cmd == "selftest":
        from moseq_reference_selftest import cmd_selftest
    out = {"loglik": cmd_loglik, "init": cmd_init, "selftest": cmd_selftest}[args.cmd](args)
    text = json.dumps(out, indent=1, default=lambda o: np.asarray(o).tolist())
    target = getattr(args, "json", None) or (args.output if args.cmd != "init" else None)
    if target:
        Path(target).write_text(text + "\n")
    print(text)
    return 0 if out.get("passed", True) else 1


if __name__ == "__main__":
    sys.exit(main())
