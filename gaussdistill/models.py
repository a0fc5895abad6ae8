r"""The small interface every teacher/student model implements (docs/mathematics.md §1).

A model is the pipeline D_n → W_T → Ŷ → W_S plus a loss and its population risk:

=====================  ==========================================================
``draw_data(rng)``     a training set D_n ~ μ^{⊗n} (a :class:`Dataset`)
``sample_teacher``     C draws of the teacher kernel P^T_{W|D}: (C, k, d)
``soft_labels``        one soft-label set per teacher draw: (C, k, n)
``sample_student``     one student draw per soft-label set (the pipeline's coupling): (C, k, d)
``loss``               ℓ(W, z_i) per draw and sample: (C, n)
``population_risk``    L_μ(W) per draw, with its standard error (an :class:`Estimate`)
=====================  ==========================================================

The training risk is ``loss(W, data).mean(axis=1)`` and the gap g(W, D) = L_μ(W) − L_D(W).
Two implementations: :class:`LinearGaussianModel` (the case study, where K_n is exact:
:meth:`LinearGaussianModel.exact_kn`) and :class:`LogisticModel` (a multinomial logistic
teacher and a rank-r student sampled by Langevin dynamics).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from .errors import GaussDistillError

if TYPE_CHECKING:
    from .logistic import LogisticSetting


def _real_array(name: str, value, what: str = "a numeric array") -> np.ndarray:
    """A finite real array (int or float kinds; never bool, complex, strings, objects), read-only copy."""
    if isinstance(value, (str, bytes)):
        raise GaussDistillError(f"{name} must be {what}; got a string")
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError):
        raise GaussDistillError(f"{name} must be {what}; could not convert {type(value).__name__}") from None
    if raw.dtype.kind not in "iuf":
        raise GaussDistillError(f"{name} must be {what} of real numbers; got dtype {raw.dtype}")
    arr = np.array(raw, dtype=np.int64 if raw.dtype.kind in "iu" else float)
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise GaussDistillError(f"{name} contains non-finite entries; all entries must be finite")
    arr.flags.writeable = False
    return arr


def _read_only(value) -> np.ndarray:
    arr = np.array(value, dtype=float)
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True)
class Dataset:
    """A training set: inputs X (d, n), columns are samples, and labels Y ((k, n) or (n,)).

    Both are stored as read-only copies: X as float64, Y as int64 when given as integers
    (class labels) and float64 otherwise.
    """

    X: np.ndarray
    Y: np.ndarray

    def __post_init__(self):
        X = _real_array("X", self.X)
        Y = _real_array("Y", self.Y)
        if X.ndim != 2:
            raise GaussDistillError(f"X must be a 2-D (d, n) array; got shape {X.shape}")
        if Y.ndim not in (1, 2) or Y.shape[-1] != X.shape[1]:
            raise GaussDistillError(f"Y must have shape (n,) or (k, n) with n = {X.shape[1]} (the columns of X); "
                                    f"got {Y.shape}")
        X = X.astype(float)
        X.flags.writeable = False
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "Y", Y)


@dataclass(frozen=True)
class Estimate:
    """A Monte Carlo (or exact) value with its standard error, elementwise."""

    value: np.ndarray
    stderr: np.ndarray

    def __post_init__(self):
        object.__setattr__(self, "value", _read_only(self.value))
        object.__setattr__(self, "stderr", _read_only(self.stderr))

    def to_dict(self) -> dict:
        return {"value": np.asarray(self.value).tolist(), "stderr": np.asarray(self.stderr).tolist()}


@runtime_checkable
class DistillationModel(Protocol):
    """What the simulators and the bound evaluations need from a model (module docstring)."""

    def draw_data(self, rng: np.random.Generator) -> Dataset: ...

    def sample_teacher(self, data: Dataset, n_draws: int, rng: np.random.Generator) -> np.ndarray: ...

    def soft_labels(self, data: Dataset, teacher_draws: np.ndarray, rng: np.random.Generator) -> np.ndarray: ...

    def sample_student(self, data: Dataset, soft_labels: np.ndarray, rng: np.random.Generator) -> np.ndarray: ...

    def loss(self, weights: np.ndarray, data: Dataset) -> np.ndarray: ...

    def population_risk(self, weights: np.ndarray, rng: np.random.Generator) -> Estimate: ...


def _draws(name: str, weights, shape) -> np.ndarray:
    W = _real_array(name, weights, f"a numeric array of shape (n_draws, {shape[0]}, {shape[1]})").astype(float)
    if W.ndim == 2:
        W = W[None]
    if W.ndim != 3 or W.shape[1:] != shape:
        raise GaussDistillError(f"{name} must have shape (n_draws, {shape[0]}, {shape[1]}); got {np.shape(weights)}")
    if not np.all(np.isfinite(W)):
        raise GaussDistillError(f"{name} contains non-finite entries")
    return W


@dataclass(frozen=True, eq=False)
class LinearGaussianModel:
    r"""The linear-Gaussian case study (docs/mathematics.md §2) behind the model interface.

    Fixed design X (d×n); D = Y = W⋆X + νE; teacher ``gd.ridge_teacher(X, Y, teacher_lam, noise,
    teacher_temperature)``; soft labels Ŷ = W_T X + τE′ for each teacher draw (the mixture
    MN(M_T X, I_k, τ²I + XᵀΣ_T X) of ``gd.soft_labels``, drawn through its teacher draw);
    student ``gd.rank_student(teacher, X, rank, student_lam, τ, student_temperature,
    soft_labels=Ŷ)``. Loss ℓ(W, (x_i, y_i)) = ‖y_i − W x_i‖²; fixed-design population risk
    L(W) = ‖(W − W⋆)X‖²_F/n + kν² (exact: stderr 0).
    """

    W_star: np.ndarray
    X: np.ndarray
    noise: float = 0.5
    teacher_lam: float = 1.0
    teacher_temperature: float = 1.0
    soft_noise: float = 0.5
    rank: int = 1
    student_lam: float = 0.5
    student_temperature: float = 1.0

    def __post_init__(self):
        W = _real_array("W_star", self.W_star).astype(float)
        X = _real_array("X", self.X).astype(float)
        if W.ndim != 2 or X.ndim != 2 or W.shape[1] != X.shape[0]:
            raise GaussDistillError(f"W_star (k, d) and X (d, n) must be 2-D with matching d; got shapes "
                                    f"{W.shape} and {X.shape}")
        W.flags.writeable = X.flags.writeable = False
        object.__setattr__(self, "W_star", W)
        object.__setattr__(self, "X", X)
        for name in ("noise", "soft_noise"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise GaussDistillError(f"{name} must be a real number >= 0; got {type(value).__name__} {value!r:.40}")
            try:
                value = float(value)
            except OverflowError:
                raise GaussDistillError(f"{name} must be a finite real number >= 0; got a huge integer") from None
            if not (np.isfinite(value) and value >= 0):
                raise GaussDistillError(f"{name} must be a finite real number >= 0; got {value}")
            object.__setattr__(self, name, value)

    @property
    def shape(self) -> tuple:
        return self.W_star.shape

    def draw_data(self, rng: np.random.Generator) -> Dataset:
        k, n = self.W_star.shape[0], self.X.shape[1]
        return Dataset(self.X, self.W_star @ self.X + self.noise * rng.standard_normal((k, n)))

    def teacher(self, data: Dataset):
        import gaussdistill as gd

        return gd.ridge_teacher(data.X, data.Y, self.teacher_lam, self.noise, self.teacher_temperature)

    def sample_teacher(self, data: Dataset, n_draws: int, rng: np.random.Generator) -> np.ndarray:
        return self.teacher(data).sample(n_draws, rng)

    def soft_labels(self, data: Dataset, teacher_draws: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        W = _draws("teacher_draws", teacher_draws, self.shape)
        fitted = np.einsum("ckd,dn->ckn", W, data.X)
        return fitted + self.soft_noise * rng.standard_normal(fitted.shape)

    def student(self, data: Dataset, soft_labels=None):
        """The student kernel fitted to one soft-label set (None: the population student, E[Ŷ])."""
        import gaussdistill as gd

        return gd.rank_student(self.teacher(data), data.X, self.rank, self.student_lam, self.soft_noise,
                               self.student_temperature, soft_labels=soft_labels)

    def sample_student(self, data: Dataset, soft_labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return np.stack([self.student(data, s).sample(None, rng) for s in soft_labels])

    def loss(self, weights: np.ndarray, data: Dataset) -> np.ndarray:
        W = _draws("weights", weights, self.shape)
        resid = data.Y[None] - np.einsum("ckd,dn->ckn", W, data.X)
        return np.einsum("ckn,ckn->cn", resid, resid)

    def population_risk(self, weights: np.ndarray, rng: np.random.Generator | None = None) -> Estimate:
        W = _draws("weights", weights, self.shape)
        diff = np.einsum("ckd,dn->ckn", W - self.W_star[None], self.X)
        k, n = self.shape[0], self.X.shape[1]
        value = np.einsum("ckn,ckn->c", diff, diff) / n + k * self.noise ** 2
        return Estimate(value, np.zeros_like(value))

    def exact_kn(self, data: Dataset, soft_labels=None) -> float:
        """K^W = KL(q_S ‖ q_T) in weight space, exactly (``gd.divergence(kind="weight")``).

        For the population student (``soft_labels`` None) or the student fitted to a given
        soft-label set; +inf when Σ_S is singular (student_temperature 0).
        """
        import gaussdistill as gd

        return float(gd.divergence(self.student(data, soft_labels), self.teacher(data), data.X,
                                   kind="weight").total)


@dataclass(frozen=True, eq=False)
class LogisticModel:
    """A :class:`gaussdistill.LogisticSetting` behind the model interface (Langevin kernels).

    ``sample_teacher`` runs ``n_draws`` teacher chains and returns their final states;
    ``soft_labels`` gives softmax(W_T X / T) (deterministic given the draw); ``sample_student``
    runs one student chain per soft-label set. ``loss`` is the unclipped cross-entropy at
    temperature 1; ``population_risk`` its mean on a fresh test set of ``n_test`` points.
    """

    setting: LogisticSetting

    def __post_init__(self):
        from .logistic import LogisticSetting

        if not isinstance(self.setting, LogisticSetting):
            raise GaussDistillError(f"setting must be a LogisticSetting; got {type(self.setting).__name__}")

    def draw_data(self, rng: np.random.Generator) -> Dataset:
        X, y = self.setting.truth.draw(self.setting.n, rng)
        return Dataset(X, y)

    def _problem(self, data: Dataset):
        from .logistic.model import Problem

        s = self.setting
        return Problem(data.X, self._labels(data), s.gamma, s.prior_var, s.temperature)

    def sample_teacher(self, data: Dataset, n_draws: int, rng: np.random.Generator) -> np.ndarray:
        from .logistic.model import sample_teacher

        s = self.setting
        run = sample_teacher(self._problem(data), s.k, n_draws, s.n_steps, s.burn_in, rng,
                             step_scale=s.step_scale, step=s.step, method=s.method)
        return run.final.reshape(n_draws, s.k, s.d)

    def soft_labels(self, data: Dataset, teacher_draws: np.ndarray, rng=None) -> np.ndarray:
        from .logistic.model import soft_labels

        W = _draws("teacher_draws", teacher_draws, (self.setting.k, self.setting.d))
        return soft_labels(W, data.X, self.setting.temperature)

    def sample_student(self, data: Dataset, soft_labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        from .logistic.model import sample_student

        s = self.setting
        _, W_S = sample_student(self._problem(data), np.asarray(soft_labels, dtype=float), s.rank, s.n_steps,
                                s.burn_in, rng, step_scale=s.step_scale, step=s.step, method=s.method)
        return W_S

    def _labels(self, data: Dataset) -> np.ndarray:
        """data.Y as class labels: n integers in [0, k) (floats such as 2.0 are refused)."""
        y, k = data.Y, self.setting.k
        if y.ndim != 1 or y.dtype.kind != "i" or (y.size and (y.min() < 0 or y.max() >= k)):
            span = f", range [{y.min()}, {y.max()}]" if y.size else ""
            raise GaussDistillError(f"data.Y must hold n integer class labels in [0, k) = [0, {k}); got dtype "
                                    f"{y.dtype}, shape {y.shape}{span}")
        if data.X.shape[0] != self.setting.d:
            raise GaussDistillError(f"data.X must have d = {self.setting.d} rows; got shape {data.X.shape}")
        return y

    def loss(self, weights: np.ndarray, data: Dataset) -> np.ndarray:
        from .logistic.setting import pointwise_loss

        return pointwise_loss(_draws("weights", weights, (self.setting.k, self.setting.d)), data.X,
                              self._labels(data))

    def population_risk(self, weights: np.ndarray, rng: np.random.Generator) -> Estimate:
        from .logistic.setting import risk_and_grad

        W = _draws("weights", weights, (self.setting.k, self.setting.d))
        Xt, yt = self.setting.truth.draw(self.setting.n_test, rng)
        _, _, mean, sd, _ = risk_and_grad(W, Xt, yt, self.setting.loss_clip, grad=False)
        return Estimate(mean, sd / np.sqrt(self.setting.n_test))
