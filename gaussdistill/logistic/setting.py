r"""One setting of the logistic distillation model, and its simulation over data replicates.

A replicate draws a training set D_n from μ, runs ``n_chains`` teacher chains on the Gibbs
posterior (one teacher draw per chain), computes each draw's soft labels softmax(W_T X / T)
and runs one student chain per teacher draw (the pipeline D → W_T → Ŷ → W_S). The final
states are draws of the two kernels P^T_{W|D} and P^S_{W|D}. On a fresh test set of
``n_test`` points from μ it evaluates, for the loss ℓ(W, (x, y)) = −log softmax(W x)_y
(temperature 1, both models; ``_ce``) and its clipped version min(ℓ, M) ∈ [0, M]:

* population risk L_μ(W) (test-set mean) and training risk L_D(W), per draw;
* the gap g(W, D) = L_μ(W) − L_D(W); gen_T, gen_S are its means over draws and replicates.

K_n = E_D KL(P^S_{W|D} ‖ P^T_{W|D}) is estimated on the identifiable part of the weights:
the loss depends on W only through Qᵀ W (Q a k×(k−1) orthonormal basis of 1^⊥; softmax is
invariant to W ↦ W + 1vᵀ), so by data processing the KL of the laws of Qᵀ W is the K_n the
Donsker–Varadhan step needs (docs/mathematics.md §1.1), and it is at most the KL of the full
weights. It is estimated per replicate with :func:`gaussdistill.estimate_kl` (``"gaussian"``
plug-in and ``"knn"``) from the ``n_chains`` draws of each kernel. A student of rank
r < min(k − 1, d) puts Qᵀ W_S on a set of rank-r matrices, of Lebesgue measure zero: its law is
singular with respect to the teacher's and K_n = +inf (reported as such, not estimated).

Rows of :meth:`LogisticSetting.run`: ``quantity, value, stderr, n, note``; the value is the
mean over replicates and the stderr the standard deviation over replicates / √R (it includes
the test-set and chain noise); with R = 1 the spread over data sets is unknown: stderr = +inf.
"""
from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass

import numpy as np

from ..errors import GaussDistillError
from .data import Truth
from .langevin import METHODS
from .model import Problem, logits, sample_student, sample_teacher, soft_labels

DATA_KINDS = ("logistic", "mixture")


def _seed_sequence(seed) -> np.random.SeedSequence:
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, (numbers.Integral, np.integer)) and not isinstance(seed, bool) and int(seed) >= 0:
        return np.random.SeedSequence(int(seed))
    raise GaussDistillError(f"seed must be a non-negative int or a numpy SeedSequence; got {seed!r}")


#: Largest count (sizes, steps, replicates) accepted.
MAX_COUNT = 2**40


def _count(name, value, minimum):
    if (isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)) or int(value) < minimum
            or int(value) > MAX_COUNT):
        raise GaussDistillError(f"{name} must be an integer in [{minimum}, 2^40]; got {value!r:.60}")
    return int(value)


def _positive(name, value, allow_zero=False):
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise GaussDistillError(f"{name} must be a real number; got {type(value).__name__} {value!r}")
    try:
        value = float(value)
    except OverflowError:              # a Python int beyond float64 (10**400)
        raise GaussDistillError(f"{name} must be a finite number > 0; got an integer of "
                                f"{len(str(abs(int(value))))} digits") from None
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise GaussDistillError(f"{name} must be a finite number {'>=' if allow_zero else '>'} 0; got {value}")
    return value


@dataclass(frozen=True)
class LogisticSetting:
    """A multinomial logistic teacher distilled into a rank-r student (module docstring).

    Parameters
    ----------
    k, d, n : classes, input dimension, training-set size.
    rank : student rank r in [1, min(k, d)] (W_S = A Bᵀ, A k×r, B d×r).
    gamma : inverse temperature γ > 0 of both Gibbs posteriors, ∝ prior × exp(−γ n L_D)
        (γ = 1: the Bayesian posterior of the teacher's logistic model).
    prior_var : σ₀² > 0 of the N(0, σ₀² I) priors on W_T, A and B.
    temperature : softmax temperature T > 0 of the soft labels and of the student's training predictions.
    data : "logistic" or "mixture" ground truth (:mod:`gaussdistill.logistic.data`);
        signal : its scale a > 0; truth_seed : the seed of the ground truth.
    method : "mala" (default) or "ula"; step_scale : the step rule's factor > 0; step : a
        fixed step size > 0 instead of the rule (None: the rule).
    n_chains, n_steps, burn_in : chains per replicate (= draws of each kernel; at least
        (k − 1)·d + 3 for the K_n estimate), steps, burn-in.
    n_test : size of the fresh test set for the population risk.
    loss_clip : M > 0, the clipped loss min(ℓ, M) ∈ [0, M].
    """

    k: int = 3
    d: int = 5
    n: int = 200
    rank: int = 2
    gamma: float = 1.0
    prior_var: float = 1.0
    temperature: float = 2.0
    data: str = "logistic"
    signal: float = 2.0
    truth_seed: int = 0
    method: str = "mala"
    step_scale: float = 1.0
    step: float | None = None
    n_chains: int = 64
    n_steps: int = 600
    burn_in: int = 300
    n_test: int = 10000
    loss_clip: float = 5.0

    def __post_init__(self):
        for name, minimum in (("k", 2), ("d", 1), ("n", 2), ("n_chains", 4), ("n_steps", 8), ("n_test", 2)):
            object.__setattr__(self, name, _count(name, getattr(self, name), minimum))
        if (isinstance(self.truth_seed, bool) or not isinstance(self.truth_seed, (numbers.Integral, np.integer))
                or self.truth_seed < 0):
            raise GaussDistillError(f"truth_seed must be an integer >= 0; got {self.truth_seed!r}")
        object.__setattr__(self, "truth_seed", int(self.truth_seed))
        object.__setattr__(self, "burn_in", _count("burn_in", self.burn_in, 0))
        if self.burn_in > self.n_steps - 4:
            raise GaussDistillError(f"burn_in must be <= n_steps - 4 = {self.n_steps - 4}; got {self.burn_in}")
        need = (self.k - 1) * self.d + 3
        if self.n_chains < need:
            raise GaussDistillError(
                f"n_chains must be >= (k - 1)·d + 3 = {need}: the chains' final states are the draws of each "
                f"kernel from which K_n is estimated (Gaussian plug-in in dimension (k - 1)·d); got {self.n_chains}")
        rank = _count("rank", self.rank, 1)
        if rank > min(self.k, self.d):
            raise GaussDistillError(
                f"rank must be an integer in [1, min(k, d)] = [1, {min(self.k, self.d)}]; got {rank}")
        object.__setattr__(self, "rank", rank)
        for name in ("gamma", "prior_var", "temperature", "signal", "step_scale", "loss_clip"):
            object.__setattr__(self, name, _positive(name, getattr(self, name)))
        if self.step is not None:
            object.__setattr__(self, "step", _positive("step", self.step))
        for name, choices in (("data", DATA_KINDS), ("method", METHODS)):
            if not isinstance(getattr(self, name), str) or getattr(self, name) not in choices:
                raise GaussDistillError(f"{name} must be one of {choices}; got {getattr(self, name)!r}")

    def replace(self, **overrides) -> LogisticSetting:
        """A copy with some parameters changed (validated again); unknown names are refused."""
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise GaussDistillError(f"unknown LogisticSetting parameter(s) {unknown}; valid: {sorted(names)}")
        return dataclasses.replace(self, **overrides)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def truth(self) -> Truth:
        return Truth.make(self.data, self.k, self.d, self.signal, self.truth_seed)

    @property
    def identifiable_singular(self) -> bool:
        """True when r < min(k − 1, d): the student's law of Qᵀ W is singular (K_n = +inf)."""
        return self.rank < min(self.k - 1, self.d)

    def simulate(self, replicates: int = 4, seed=0, progress=None, stability: bool = False) -> list:
        """The per-replicate results (a list of dicts of arrays; see :func:`replicate`)."""
        R = _count("replicates", replicates, 1)
        if R > MAX_COUNT:
            raise GaussDistillError(f"replicates must be <= {MAX_COUNT} (2^40); got {R}")
        root = _seed_sequence(seed)
        # root.spawn(R) without advancing the caller's SeedSequence (the same seed object
        # passed twice must give the same table).
        children = [np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, i), pool_size=root.pool_size)
                    for i in range(R)]
        from tqdm.auto import tqdm

        bar = tqdm(children, desc="logistic replicates", disable=(None if progress is None else not progress),
                   leave=False)
        try:
            with np.errstate(over="raise", divide="raise", invalid="raise"):
                return [replicate(self, child, stability=stability) for child in bar]
        except GaussDistillError:
            raise
        except (FloatingPointError, ZeroDivisionError, OverflowError, np.linalg.LinAlgError, MemoryError,
                ValueError) as exc:
            # Parameters at the edge of float64 (γ = 1e308, σ₀² = 1e-320, T = 1e±300, ...) or of
            # memory: a clear error naming them instead of a raw numpy/Python exception.
            scales = ", ".join(f"{name}={getattr(self, name)!r}" for name in (
                "gamma", "prior_var", "temperature", "signal", "step_scale", "step", "loss_clip"))
            sizes = ", ".join(f"{name}={getattr(self, name)}" for name in ("k", "d", "n", "n_chains", "n_test"))
            raise GaussDistillError(
                f"LogisticSetting could not be simulated in float64 ({type(exc).__name__}: {exc}); "
                f"a parameter is out of the numerically usable range ({scales}; {sizes}): "
                "bring gamma / temperature² and 1 / prior_var to moderate values") from exc

    def run(self, replicates: int = 4, seed=0, progress=None):
        """Simulate ``replicates`` data sets; a long-format pandas DataFrame (module docstring).

        ``seed``: a non-negative int or a numpy SeedSequence (each replicate gets one
        ``spawn`` child: the same seed gives the same table bit for bit).
        """
        return summary_table(self.simulate(replicates, seed, progress))


def identifiable_basis(k: int) -> np.ndarray:
    """Q (k×(k−1)), orthonormal columns spanning 1^⊥ (Helmert-type, from a QR)."""
    M = np.eye(k)[:, :-1] - 1.0 / k
    Q, _ = np.linalg.qr(M)
    return Q


def _loss_and_probs(W: np.ndarray, X: np.ndarray, y: np.ndarray, probs: bool):
    """(C, n) losses −log softmax(W x_i)_{y_i} and, if asked, the (C, k, n) probabilities (one GEMM)."""
    z = logits(W, X)
    zmax = z.max(axis=1, keepdims=True)
    z -= zmax
    zy = z[:, y, np.arange(y.size)]
    np.exp(z, out=z)
    total = z.sum(axis=1)
    loss = np.log(total) - zy
    if probs:
        z /= total[:, None, :]
        return loss, z
    return loss, None


def pointwise_loss(W: np.ndarray, X: np.ndarray, y: np.ndarray, clip: float | None = None) -> np.ndarray:
    """(C, k, d) weights -> (C, n) losses −log softmax(W x_i)_{y_i} (min(·, M) with ``clip``)."""
    loss, _ = _loss_and_probs(W, X, y, False)
    if clip is not None:
        np.minimum(loss, clip, out=loss)
    return loss


def risk_and_grad(W: np.ndarray, X: np.ndarray, y: np.ndarray, clip: float, grad: bool = True,
                  chunk: int = 4096):
    """Per draw: mean clipped loss, its sd, mean loss, its sd, and ∇ of the mean (unclipped) loss.

    ∇_W (1/N) Σ_i ℓ(W, (x_i, y_i)) = (1/N) (P − Y) Xᵀ, P = softmax(W X) (None unless ``grad``).
    """
    C, k, d = W.shape
    N = X.shape[1]
    s = np.zeros((4, C))
    g = np.zeros((C, k, d)) if grad else None
    for start in range(0, N, chunk):
        Xc, yc = X[:, start:start + chunk], y[start:start + chunk]
        loss, P = _loss_and_probs(W, Xc, yc, grad)
        clipped = np.minimum(loss, clip)
        s += np.stack([clipped.sum(1), (clipped ** 2).sum(1), loss.sum(1), (loss ** 2).sum(1)])
        if grad:
            P[:, yc, np.arange(yc.size)] -= 1.0
            g += (P.reshape(C * k, -1) @ Xc.T).reshape(C, k, d)
    mean_c, mean_u = s[0] / N, s[2] / N
    sd_c = np.sqrt(np.maximum(s[1] / N - mean_c ** 2, 0.0) * N / max(N - 1, 1))
    sd_u = np.sqrt(np.maximum(s[3] / N - mean_u ** 2, 0.0) * N / max(N - 1, 1))
    return mean_c, sd_c, mean_u, sd_u, (g / N if grad else None)


def replicate(setting: LogisticSetting, seed: np.random.SeedSequence, stability: bool = False) -> dict:
    """One data replicate: teacher and student chains, risks, gaps, K_n estimates, Theorem 3 terms.

    Returns a dict of floats and arrays (per chain: ``gap_T``, ``gap_S`` (clipped loss),
    ``gap_T_ce``, ``gap_S_ce`` (unclipped), ``delta2`` = ‖C(W_S − W_T)‖²_F, ``first_order`` =
    ⟨∇g(W_T, D), C(W_S − W_T)⟩ for the unclipped loss (C = I − 11ᵀ/k: g(W) = g(CW), so the
    Taylor expansion of Theorem 3 runs along the centred segment); per replicate: ``kappa`` (Hessian bound
    ½ max(‖E xxᵀ‖_op, ‖X Xᵀ/n‖_op), :mod:`gaussdistill.logistic.bounds`), the K_n estimates and the
    chains' diagnostics; with ``stability`` the replace-one stability estimate ``beta``).
    """
    import gaussdistill as gd

    s = setting
    rng_data, rng_teacher, rng_student, rng_test, rng_stab = (np.random.default_rng(c) for c in seed.spawn(5))
    truth = s.truth
    X, y = truth.draw(s.n, rng_data)
    problem = Problem(X, y, s.gamma, s.prior_var, s.temperature)
    stab_seed = rng_stab.bit_generator.seed_seq if stability else None
    trun = sample_teacher(problem, s.k, s.n_chains, s.n_steps, s.burn_in, rng_teacher,
                          step_scale=s.step_scale, step=s.step, method=s.method)
    W_T = trun.final.reshape(s.n_chains, s.k, s.d)
    srun, W_S = sample_student(problem, soft_labels(W_T, X, s.temperature), s.rank, s.n_steps, s.burn_in, rng_student,
                               step_scale=s.step_scale, step=s.step, method=s.method)
    Xt, yt = truth.draw(s.n_test, rng_test)
    out: dict = {"n_chains": s.n_chains, "n_test": s.n_test}
    for who, W in (("T", W_T), ("S", W_S)):
        rc, rc_sd, ru, ru_sd, g_test = risk_and_grad(W, Xt, yt, s.loss_clip, grad=who == "T")
        tc, _, tu, _, g_train = risk_and_grad(W, X, y, s.loss_clip, grad=who == "T")
        out.update({f"risk_{who}": rc, f"risk_{who}_sd": rc_sd, f"train_{who}": tc,
                    f"gap_{who}": rc - tc, f"risk_{who}_ce": ru, f"risk_{who}_ce_sd": ru_sd,
                    f"train_{who}_ce": tu, f"gap_{who}_ce": ru - tu})
        if who == "T":
            grad_T = g_test - g_train
    delta = W_S - W_T
    delta -= delta.mean(axis=1, keepdims=True)     # C(W_S − W_T): g is invariant along 1vᵀ
    out["delta2"] = np.einsum("cij,cij->c", delta, delta)
    out["first_order"] = np.einsum("cij,cij->c", grad_T, delta)
    gram_op = float(np.linalg.eigvalsh(X @ X.T / s.n)[-1])
    out["kappa"] = 0.5 * max(float(np.linalg.eigvalsh(truth.second_moment())[-1]), gram_op)
    Q = identifiable_basis(s.k)
    zT = np.einsum("ka,ckd->cad", Q, W_T).reshape(s.n_chains, -1)
    zS = np.einsum("ka,ckd->cad", Q, W_S).reshape(s.n_chains, -1)
    for method in ("gaussian", "knn"):
        if s.identifiable_singular:
            out[f"kn_{method}"], out[f"kn_{method}_se"] = math.inf, math.inf
        else:
            est = gd.estimate_kl(zS, zT, method=method)
            out[f"kn_{method}"], out[f"kn_{method}_se"] = float(est.value), float(est.stderr)
    for who, run in (("T", trun), ("S", srun)):
        out.update({f"rhat_{who}": run.rhat_max, f"ess_{who}": run.ess_min,
                    f"accept_{who}": run.acceptance, f"step_{who}": run.step})
    if stability:
        out["beta"] = _replace_one_beta(s, problem, truth, W_T, Xt, yt, stab_seed, rng_data, 0.25 * trun.step)
    return out


def _replace_one_beta(s, problem, truth, W_T, Xt, yt, stab_seed, rng_data, step) -> float:
    """max_z |E ℓ_M(W_T(D), z) − E ℓ_M(W_T(D'), z)| over the test points, D' = D with one sample replaced.

    Both teacher runs are ULA (no accept/reject, so the coupling is never broken) with the same
    step (a quarter of the MALA step of the replicate's teacher, ULA bias ≤ h/2 relative) and the
    same random numbers (``stab_seed``): a synchronous coupling, under which the two
    chains of a pair contract towards each other and their difference measures the change of
    the posterior, not Monte Carlo noise. An *estimate* of the uniform stability β (a finite
    sup over test points, chain averages for expectations), not a proof.
    """
    X, y = problem.X.copy(), problem.y.copy()
    i = int(rng_data.integers(s.n))
    x_new, y_new = truth.draw(1, rng_data)
    X[:, i], y[i] = x_new[:, 0], y_new[0]
    runs = []
    for data in ((problem.X, problem.y), (X, y)):
        pb = Problem(data[0], data[1], s.gamma, s.prior_var, s.temperature)
        rng = np.random.default_rng(stab_seed)
        runs.append(sample_teacher(pb, s.k, s.n_chains, s.n_steps, s.burn_in, rng, step=step,
                                   method="ula").final)
    diffs = []
    for start in range(0, Xt.shape[1], 4096):
        Xc, yc = Xt[:, start:start + 4096], yt[start:start + 4096]
        la = pointwise_loss(runs[0].reshape(W_T.shape), Xc, yc, s.loss_clip).mean(axis=0)
        lb = pointwise_loss(runs[1].reshape(W_T.shape), Xc, yc, s.loss_clip).mean(axis=0)
        diffs.append(np.max(np.abs(la - lb)))
    return float(max(diffs))


_ROWS = [
    ("gen_T", "gap_T", "teacher gap E[L_mu - L_D], loss clipped to [0, M]"),
    ("gen_S", "gap_S", "student gap, loss clipped to [0, M]"),
    ("gen_T_ce", "gap_T_ce", "teacher gap, unclipped cross-entropy"),
    ("gen_S_ce", "gap_S_ce", "student gap, unclipped cross-entropy"),
    ("risk_T", "risk_T", "teacher population risk (clipped), fresh test set"),
    ("risk_S", "risk_S", "student population risk (clipped), fresh test set"),
    ("train_T", "train_T", "teacher training risk (clipped)"),
    ("train_S", "train_S", "student training risk (clipped)"),
    ("rho2", "delta2", "E||C(W_S - W_T)||_F^2 (pipeline coupling, centred weights)"),
]


def summary_table(reps: list):
    """Aggregate per-replicate results into the long-format DataFrame of :meth:`LogisticSetting.run`."""
    import pandas as pd

    R = len(reps)
    records = []

    def add(quantity, per_rep, note):
        per_rep = np.asarray(per_rep, dtype=float)
        value = float(per_rep.mean())
        se = float(per_rep.std(ddof=1) / math.sqrt(R)) if (R >= 2 and math.isfinite(value)) else math.inf
        records.append({"quantity": quantity, "value": value, "stderr": se, "n": R, "note": note})

    for quantity, key, note in _ROWS:
        add(quantity, [r[key].mean() for r in reps], note)
    for method in ("gaussian", "knn"):
        add(f"kn_{method}", [r[f"kn_{method}"] for r in reps],
            f"K_n estimate ({method}) on the identifiable weights Q^T W; inf: rank-deficient student")
    add("kappa", [r["kappa"] for r in reps], "Hessian bound 1/2 max(||E xx^T||, ||XX^T/n||), mean over D")
    for who, name in (("T", "teacher"), ("S", "student")):
        add(f"rhat_{who}", [r[f"rhat_{who}"] for r in reps], f"{name}: largest split R-hat (mean over replicates)")
        add(f"ess_{who}", [r[f"ess_{who}"] for r in reps], f"{name}: smallest effective sample size")
        add(f"accept_{who}", [r[f"accept_{who}"] for r in reps], f"{name}: MALA acceptance rate")
        add(f"step_{who}", [r[f"step_{who}"] for r in reps], f"{name}: step size h")
    if "beta" in reps[0]:
        add("beta", [r["beta"] for r in reps], "replace-one stability estimate (not a proof)")
    return pd.DataFrame.from_records(records, columns=["quantity", "value", "stderr", "n", "note"])
