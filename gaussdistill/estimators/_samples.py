"""Validation of sample arrays and options for the KL estimators (done once, here)."""
from __future__ import annotations

import numbers

import numpy as np

from .._numerics.scaling import pow2_scale
from ..errors import GaussDistillError


def as_samples(name: str, value) -> np.ndarray:
    """A finite float64 array of shape (N, dim), one row per draw; 1-D input is (N, 1).

    Raises :class:`~gaussdistill.GaussDistillError` naming ``name`` for strings,
    non-numeric, complex or boolean data, arrays of more than 2 dimensions, empty
    arrays and NaN/inf entries.
    """
    if isinstance(value, (str, bytes)):
        raise GaussDistillError(f"{name} must be a numeric array of shape (N, dim); got a string {value!r:.40}")
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise GaussDistillError(
            f"{name} must be a numeric array of shape (N, dim); could not convert it ({exc})") from None
    if raw.dtype.kind not in "iuf":
        what = {"b": "booleans", "c": "complex numbers", "U": "strings", "S": "bytes", "O": "objects"}.get(
            raw.dtype.kind, f"dtype {raw.dtype}")
        raise GaussDistillError(f"{name} must be a real numeric array of shape (N, dim); got {what}")
    arr = raw.astype(np.float64, copy=False)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise GaussDistillError(
            f"{name} must have shape (N, dim), one row per draw; got an array of shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise GaussDistillError(f"{name} is empty (shape {arr.shape}); pass at least one draw of dimension >= 1")
    if not np.all(np.isfinite(arr)):
        bad = "NaN" if np.isnan(arr).any() else "inf"
        raise GaussDistillError(f"{name} contains {bad} entries; every sample must be finite")
    return arr


def as_pair(samples_p, samples_q) -> tuple[np.ndarray, np.ndarray]:
    """Both sample arrays, checked to share their dimension, scaled by one common power of 2.

    KL is invariant under a common rescaling, and a power of 2 is exact in floating point:
    the largest |entry| of the pair is brought into [0.5, 1), so squared distances and
    covariances neither overflow (samples at 1e200) nor underflow (samples at 1e-200).
    """
    p = as_samples("samples_p", samples_p)
    q = as_samples("samples_q", samples_q)
    if p.shape[1] != q.shape[1]:
        raise GaussDistillError(
            f"samples_q has dimension {q.shape[1]} but samples_p has dimension {p.shape[1]}; "
            "both must be arrays of shape (N, dim) with the same dim")
    scale = pow2_scale(p, q)
    if scale not in (0.0, 1.0):
        p, q = p / scale, q / scale
    return p, q


def affine_rank(x: np.ndarray) -> tuple[int, np.ndarray]:
    """Rank of the centred rows of ``x`` (dimension of their affine hull) and the R of their QR.

    ``R`` (dim × dim, upper triangular, positive diagonal where nonzero) satisfies
    RᵀR = (x − x̄)ᵀ(x − x̄) without forming that product, so Rᵀ/√(N − 1) is an accurate
    Cholesky factor of the sample covariance even when its condition number is ~1e20. The
    rank uses numpy's ``matrix_rank`` tolerance on the singular values of the centred data
    (σ ≤ σ_max · max(N, dim) · eps counts as 0): only exact degeneracy, up to rounding.
    """
    centred = x - x.mean(axis=0)
    if x.shape[0] < x.shape[1]:
        centred = np.vstack([centred, np.zeros((x.shape[1] - x.shape[0], x.shape[1]))])
    # numpy's stubs type every qr() result as QRResult; with mode="r" it is the R array alone.
    r: np.ndarray = np.linalg.qr(centred, mode="r")  # type: ignore[assignment]
    r = r * np.where(np.diag(r) < 0, -1.0, 1.0)[:, None]
    sv = np.linalg.svd(r, compute_uv=False)
    tol = sv[0] * max(x.shape) * np.finfo(float).eps if sv.size else 0.0
    return int(np.sum(sv > tol)) if sv[0] > 0 else 0, r


def as_count(name: str, value, minimum: int = 1, maximum: int | None = None) -> int:
    """An integer in [``minimum``, ``maximum``] (booleans and floats are rejected)."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        raise GaussDistillError(f"{name} must be an integer >= {minimum}; got {type(value).__name__} {value!r}")
    value = int(value)
    if value < minimum:
        raise GaussDistillError(f"{name} must be an integer >= {minimum}; got {value}")
    if maximum is not None and value > maximum:
        raise GaussDistillError(f"{name} must be an integer <= {maximum}; got {value}")
    return value
