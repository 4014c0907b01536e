"""The column-by-column row norms and dot products give numpy's bits."""

from __future__ import annotations

import numpy as np
import pytest

from liftguard.signal._vec import row_dots, row_norms


@pytest.mark.parametrize("k", [3, 4])
def test_row_norms_and_dots_are_numpys_bit_for_bit(k: int) -> None:
    rng = np.random.default_rng(k)
    x = rng.normal(0, 1.0, (5000, k)) * rng.lognormal(0, 3.0, (5000, 1))
    y = rng.normal(0, 1.0, (5000, k))
    assert np.array_equal(row_norms(x), np.linalg.norm(x, axis=1))
    assert np.array_equal(row_dots(x, y), np.sum(x * y, axis=1))
