"""Small real datasets bundled with fasttsne (used by the demo, docs and tests)."""
from __future__ import annotations

import os
from typing import Tuple

import numpy as np

__all__ = ["load_digits"]

_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def load_digits() -> Tuple[np.ndarray, np.ndarray]:
    """The UCI optical handwritten digits as shipped with scikit-learn.

    1,797 images of 8 x 8 pixels (grey levels 0-16) of the digits 0-9. Source: UCI Machine
    Learning Repository, "Optical Recognition of Handwritten Digits" (Alpaydin & Kaynak,
    1998), CC BY 4.0.

    Returns
    -------
    X : (1797, 64) float64
    y : (1797,) int64
    """
    with np.load(os.path.join(_DATA, "digits.npz"), allow_pickle=False) as f:
        return f["X"].astype(np.float64), f["y"].astype(np.int64)
