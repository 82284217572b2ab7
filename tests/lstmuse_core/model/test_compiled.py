"""The compiled loops' matrix products: numbers equal to NumPy's, and no BLAS behind them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lstmuse_core.model.compiled import matmul
from lstmuse_core.model.generate import load_generator
from lstmuse_core.music.meter import COMMON_TIME

ROOT = Path(__file__).resolve().parents[3]
COMMITTED_MODELS = ROOT / "trained_models"

# Samples folk melodies as (one candidate: one row; four: `matmul`'s 4-row blocks) with
# SciPy made uninstallable, then prints them and whether any SciPy module was imported.
_SAMPLE_WITHOUT_SCIPY = """
import json, sys
from pathlib import Path
sys.modules["scipy"] = None  # as if not installed: any 'import scipy...' raises ImportError
from lstmuse_core.model.generate import load_generator
from lstmuse_core.music.meter import COMMON_TIME
generator = load_generator("folk", models_dir=Path({models!r}))
melodies = [
    generator.sample(n=1, bars=8, seed=3, meter=COMMON_TIME, mode="major", candidates=c)[0]
    for c in (1, 4)
]
print(json.dumps({{
    "melodies": [m.symbols for m in melodies],
    "scipy": sorted(m for m in sys.modules if m.startswith("scipy.")),
}}))
"""


@pytest.mark.parametrize("rows", [1, 3, 4, 9])
@pytest.mark.parametrize("outputs", [1, 7, 8, 13, 1031])
def test_matmul_equals_numpy(rows: int, outputs: int) -> None:
    """Every row count (one row: 8 outputs a block; more: 4 rows x 2 outputs), outputs not a
    multiple of either block and more than one L1 tile: ``x @ w_t.T`` within float32 rounding."""
    generator = np.random.default_rng(rows * 1000 + outputs)
    inner = 37
    x = generator.standard_normal((rows, inner), dtype=np.float32)
    w_t = generator.standard_normal((outputs, inner), dtype=np.float32)
    out = np.full((rows, outputs), np.nan, np.float32)
    matmul(x, w_t, out, rows)
    expected = x.astype(np.float64) @ w_t.T.astype(np.float64)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_matmul_leaves_the_rows_past_its_count() -> None:
    """``rows`` of 9: only the first ``rows`` are computed (the sampler's finished melodies are
    not stepped), each as in the whole product; a row's products never depend on the count."""
    generator = np.random.default_rng(5)
    x = generator.standard_normal((9, 37), dtype=np.float32)
    w_t = generator.standard_normal((13, 37), dtype=np.float32)
    whole = np.empty((9, 13), np.float32)
    matmul(x, w_t, whole, 9)
    for rows in (1, 2, 5):
        out = np.full((9, 13), np.nan, np.float32)
        matmul(x, w_t, out, rows)
        np.testing.assert_array_equal(out[:rows], whole[:rows])
        assert np.isnan(out[rows:]).all()


def test_sampling_needs_no_scipy() -> None:
    """With SciPy uninstallable, one melody of one candidate and one of four are sampled, the
    same as with it, and no SciPy module is imported: the loop calls no BLAS."""
    code = _SAMPLE_WITHOUT_SCIPY.format(models=str(COMMITTED_MODELS))
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["scipy"] == []
    generator = load_generator("folk", models_dir=COMMITTED_MODELS)
    expected = [
        generator.sample(n=1, bars=8, seed=3, meter=COMMON_TIME, mode="major", candidates=c)[0]
        for c in (1, 4)
    ]
    assert report["melodies"] == [m.symbols for m in expected]


def test_the_triplet_marker_keeps_its_own_chance_at_any_temperature() -> None:
    """Drawn over an even grid of uniforms, symbol 2 (the marker) comes at its
    temperature-1 probability when it is the ``untempered`` one, at the sharpened one
    otherwise; the other symbols keep their tempered proportions."""
    from lstmuse_core.model.compiled import pick

    raw = np.array([2.0, 1.0, 0.0, -1.0], dtype=np.float32)
    bias = np.zeros(4, dtype=np.float32)
    allowed = np.ones(4, dtype=np.bool_)
    weights = np.empty(4, dtype=np.float32)
    temperature = 0.5

    def shares(untempered: int) -> np.ndarray:
        grid = (np.arange(20_000) + 0.5) / 20_000
        drawn = [
            pick(raw / temperature, bias, allowed, u, 0, 1.0, weights, untempered, temperature)
            for u in grid
        ]
        return np.bincount(drawn, minlength=4) / len(grid)

    at_one = np.exp(raw) / np.exp(raw).sum()
    sharpened = np.exp(raw / temperature) / np.exp(raw / temperature).sum()
    kept = shares(2)
    assert kept[2] == pytest.approx(at_one[2], abs=1e-3)
    others = sharpened[[0, 1, 3]] / sharpened[[0, 1, 3]].sum() * (1 - at_one[2])
    np.testing.assert_allclose(kept[[0, 1, 3]], others, atol=1e-3)
    np.testing.assert_allclose(shares(-1), sharpened, atol=1e-3)
