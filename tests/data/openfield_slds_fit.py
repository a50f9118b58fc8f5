"""Write tests/data/openfield_slds_fit.npz: ``ethogram fit --method keypoint-slds --seed 0`` of
the shipped open-field mouse (2330 frames, its defaults: 20 states, kappa searched, 50 AR-only
+ 500 full sweeps; about a minute), as the model's description (JSON), its parameters, the
body parts in the model's order and the fit's labels. Read by tests/test_keypoint_slds_apply.py.

Run from the repository root: ``PYTHONPATH=src python tests/data/openfield_slds_fit.py``.
"""

import json
import tempfile
from pathlib import Path

import numpy as np

from ethogram.cli import main
from ethogram.results import load_results

HERE = Path(__file__).parent
KEYPOINTS = HERE.parent / "fixtures" / "openfield" / "keypoints.csv"

with tempfile.TemporaryDirectory() as tmp:
    out = Path(tmp) / "fit"
    main(["fit", str(KEYPOINTS), "--fps", "30", "--method", "keypoint-slds", "--seed", "0",
          "-o", str(out), "--quiet"])  # fmt: skip
    fit = load_results(out / "results.h5")
model = fit.model
np.savez_compressed(
    HERE / "openfield_slds_fit.npz",
    description=json.dumps(model.describe()),
    bodyparts=np.array(fit.preparation.bodyparts_),
    syllables=fit.recordings[0].syllables,
    **model.get_params(),
)
