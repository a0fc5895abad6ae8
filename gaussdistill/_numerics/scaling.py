"""Exact rescaling by powers of two, so that sums and squares of values near 1e±300 neither
overflow nor underflow and the results equal the unscaled ones (division by 2^e is exact)."""
from __future__ import annotations

import math

import numpy as np


def pow2_scale(*arrays) -> float:
    """The power of two 2^e with max|entry| in [2^(e−1), 2^e) over ``arrays`` (0 if all are zero)."""
    top = max((float(np.max(np.abs(a), initial=0.0)) for a in arrays), default=0.0)
    return math.ldexp(1.0, math.frexp(top)[1]) if top > 0 else 0.0


__all__ = ["pow2_scale"]
