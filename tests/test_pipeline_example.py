"""examples/course_hw7.py runs from start to end: forward-backward equals brute force, the spiral
is recovered, and part 4 fits the real moseq2 recording (or says it is skipped)."""

import re
import runpy
from pathlib import Path

from conftest import SHARED

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "course_hw7.py"


def test_course_hw7_example_runs(tmp_path, capsys):
    # in this process, through the script's own main (argparse and all): what `python
    # examples/course_hw7.py --out DIR` runs, without a second interpreter's imports
    example = runpy.run_path(str(EXAMPLE), run_name="course_hw7")
    assert example["main"](["--out", str(tmp_path / "hw7")]) == 0
    out = capsys.readouterr().out
    m = re.search(r"log p\(x\) (-?[\d.]+), brute force (-?[\d.]+)", out)
    assert m and abs(float(m.group(1)) - float(m.group(2))) < 1e-9
    acc = float(re.search(r"25 EM iterations .* matched accuracy ([\d.]+)", out).group(1))
    assert acc >= 0.95
    if (SHARED / "moseq2" / "proc" / "results_00.h5").exists():
        assert "median_duration_s" in out and (tmp_path / "hw7" / "results.h5").is_file()
    else:
        assert "skipped" in out
