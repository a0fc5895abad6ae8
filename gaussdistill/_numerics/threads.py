"""One BLAS thread for small dense work (threadpoolctl, controller built once per process).

Tiny triangular solves on a loaded multi-core machine ran ~30x slower with OpenBLAS's
thread pool than on one thread (measured: 27 ms vs 0.8 ms for a 3-dimensional Gaussian
plug-in estimate), and the sweep runs one task per core anyway.
"""
from __future__ import annotations

import functools


@functools.lru_cache(maxsize=1)
def _controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def single_blas_thread():
    """Context manager limiting every BLAS/OpenMP pool of this process to one thread."""
    return _controller().limit(limits=1)
