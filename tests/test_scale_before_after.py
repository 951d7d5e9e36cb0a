"""``benchmarks/scale_before_after.py --quick`` runs in the suite, this tree standing for both sides.

No time is asserted (the before/after ratios are read from the full run's output); the quick run keeps
the script and its child processes working as the code under them changes.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load():
    """The script as a module (``benchmarks/`` is not a package); its top level imports only the standard library."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import scale_before_after
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return scale_before_after


#: The script's bullets (0: the synthetic check), each its own test so that xdist can run them on both workers
#: (one test of all seven was the suite's longest, ~40 s of CPU in its children, bullet 4 alone 17 s).
BULLETS = ["0", "1", "2", "3", "4", "5", "6"]


@pytest.mark.parametrize("bullet", BULLETS)
def test_quick_mode_measures_every_bullet_on_both_trees(capsys, bullet):
    rows = _load().main(["--old", str(ROOT), "--quick", "--bullets", bullet])
    out = capsys.readouterr().out
    assert sorted({r[0].split(".")[0] for r in rows}) == [bullet], out
    assert not re.search(r"\b(nan|inf|infinity)\b", out, re.IGNORECASE), out
    for bullet_name, _size, before, after, ratio in rows:
        if bullet_name.startswith("0."):  # the same tree on both sides builds the same network
            assert ratio.startswith("identical in every column"), ratio
            continue
        for side in (before, after):
            assert re.search(r"\d", side) and not re.search(r"failed|did not finish|MemoryError", side), (bullet_name, side)
        if bullet_name == "2. ranking time growth":
            assert re.fullmatch(r"n\^-?\d+\.\d\d", before) and re.fullmatch(r"n\^-?\d+\.\d\d", after), (before, after)
        else:
            assert re.match(r"(wall )?\d+\.\d\dx", ratio), (bullet_name, ratio)
    # the same inputs on both sides: the clearing payments and the bucketed book's loss come out the same
    assert all("payments agree to 0e+00" in r[3] for r in rows if r[0].startswith("3.")), rows


def test_the_bullets_tested_are_the_scripts():
    """The parametrized test above covers every bullet the script runs by default (its ``--bullets`` default)."""
    import inspect

    default = re.search(r'"--bullets", default="([\d,]+)"', inspect.getsource(_load().main))
    assert default and default.group(1).split(",") == BULLETS, default


def test_ratio_is_the_median_of_the_paired_turns():
    module = _load()
    got = {"before": [{"wall": 2.0}, {"wall": 4.0}, {"wall": 9.0}], "after": [{"wall": 1.0}, {"wall": 1.0}, {"error": "x"}]}
    assert module._ratio(got, lambda r: r["wall"]) == "3.00x (range 2.00-4.00)"
    assert module._ratio({"before": [{"error": "MemoryError"}], "after": [{"wall": 1.0}]}, lambda r: r["wall"]) == "-"


def test_old_tree_copy_keeps_only_what_it_reads_and_the_cells_as_text(tmp_path):
    module = _load()
    folder = tmp_path / "net"
    folder.mkdir()
    pd.DataFrame({"id": ["E1", "E2"], "amount": ["0.1000000000000000055", ""], "newer": ["false", "true"]}).to_csv(
        folder / "entities.csv", index=False)
    pd.DataFrame({"asset": ["stETH"]}).to_csv(folder / "pegs.csv", index=False)
    left = module._for_old_tree(folder, {"entities": {"id", "amount"}})
    assert left == "entities.newer (values ['false', 'true']), pegs.csv (1 rows)"
    copy = tmp_path / "net_old"
    assert sorted(p.name for p in copy.iterdir()) == ["entities.csv"]
    assert (copy / "entities.csv").read_text() == "id,amount\nE1,0.1000000000000000055\nE2,\n"
