"""Batched Langevin: per-step cost of 1 000 teacher chains (k = 3, d = 20, n = 500).

Three per-step times, measured interleaved in the same run (medians of ``REPEATS`` rounds):

* ours: :func:`gaussdistill.logistic.run_chains` (preconditioned MALA, the default) on the
  logistic teacher's posterior (:func:`gaussdistill.logistic.model.teacher_target`), all chains
  on a leading axis;
* floor: the least work any batched step needs, in plain numpy: the logits of all chains as
  one GEMM (C·k × d)(d × n), one softmax, the gradient as one GEMM (C·k × n)(n × d), one Gaussian
  draw for all chains, one update;
* loop: the same MALA step (same ``log_post``, same preconditioner), looping over chains in
  Python, one chain at a time (timed on ``LOOP_CHAINS`` chains and scaled to 1 000: its cost
  is linear in the number of chains by construction).

Targets (issue): ours ≥ 20× faster than the loop, and ≤ 2× the floor. All three run with one
BLAS thread (threadpoolctl), so the comparison is core for core, timed as process CPU time.
"""
from __future__ import annotations

import math
import statistics
import time

import numpy as np

from gaussdistill.logistic import run_chains
from gaussdistill.logistic.data import Truth
from gaussdistill.logistic.model import Problem, teacher_target

K, D, N, CHAINS = 3, 20, 500, 1000
# CPU time of this process (one BLAS thread): on a machine shared with other jobs, wall time
# also counts the time spent waiting for a core, which the comparison should not.
_clock = time.process_time
STEPS, LOOP_CHAINS, LOOP_STEPS, REPEATS = 30, 50, 4, 9


def _setup(n=N):
    truth = Truth.make("logistic", K, D, 2.0, 0)
    X, y = truth.draw(n, np.random.default_rng(0))
    problem = Problem(X, y, 1.0, 1.0, 2.0)
    log_post, pre, mode = teacher_target(problem, K)
    rng = np.random.default_rng(1)
    x0 = mode.reshape(1, -1) + pre.apply_R(rng.standard_normal((CHAINS, K * D)))
    return problem, log_post, pre, x0


def _ours(log_post, pre, x0, h):
    """Per-step time of one run_chains call of STEPS steps (its initial evaluation and final
    diagnostics included, amortised over the steps: a conservative measure)."""
    rng = np.random.default_rng(2)
    t0 = _clock()
    run_chains(log_post, x0, h, STEPS, rng, burn_in=STEPS - 4, method="mala", precond=pre)
    return (_clock() - t0) / STEPS


def _floor(problem, x0, h):
    X, Y = problem.X, problem.onehot_k(K)
    XT = np.ascontiguousarray(X.T)
    YX = np.tile(Y @ XT, (CHAINS, 1))                          # (P − Y)Xᵀ = PXᵀ − YXᵀ
    W = x0.reshape(CHAINS * K, D).copy()
    rng = np.random.default_rng(3)
    root = math.sqrt(2 * h)
    t0 = _clock()
    for _ in range(STEPS):
        Z = (W @ X).reshape(CHAINS, K, N)                      # GEMM 1: all chains' logits
        Z -= Z.max(axis=1, keepdims=True)                      # one softmax
        np.exp(Z, out=Z)
        Z /= Z.sum(axis=1, keepdims=True)
        G = Z.reshape(CHAINS * K, N) @ XT                      # GEMM 2: all chains' gradients
        G -= YX
        xi = rng.standard_normal(W.shape)                      # one Gaussian draw
        W -= h * G
        W += root * xi
    return (_clock() - t0) / STEPS


def _loop(log_post, pre, x0, h):
    """The same MALA step, one chain at a time in a Python loop."""
    rng = np.random.default_rng(4)
    states = [x0[c:c + 1].copy() for c in range(LOOP_CHAINS)]
    cache = [log_post(s) for s in states]
    root, half = math.sqrt(2 * h), math.sqrt(h / 2)
    t0 = _clock()
    for _ in range(LOOP_STEPS):
        for c in range(LOOP_CHAINS):
            x, (lp, g) = states[c], cache[c]
            xi = rng.standard_normal(x.shape)
            y = x + h * pre.apply_P(g) + root * pre.apply_R(xi)
            lp_y, g_y = log_post(y)
            u = xi + half * pre.apply_RT(g + g_y)
            if math.log(rng.random()) < float(lp_y[0] - lp[0] + 0.5 * (xi @ xi.T - u @ u.T)[0, 0]):
                states[c], cache[c] = y, (lp_y, g_y)
    per_chain_step = (_clock() - t0) / (LOOP_STEPS * LOOP_CHAINS)
    return per_chain_step * CHAINS


def benchmarks():
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return _benchmarks()


def _benchmarks():
    problem, log_post, pre, x0 = _setup()
    h = 0.3 * (K * D) ** (-1 / 3)
    _ours(log_post, pre, x0, h), _floor(problem, x0, h)          # warm-up
    ours, floor, loop = [], [], []
    for _ in range(REPEATS):                                     # interleaved repeats
        ours.append(_ours(log_post, pre, x0, h))
        floor.append(_floor(problem, x0, h))
        loop.append(_loop(log_post, pre, x0, h))
    o, f, lo = statistics.median(ours), statistics.median(floor), statistics.median(loop)
    # ratios of the pairs measured side by side in each round, then their median (load bursts
    # on a shared machine hit both members of a pair alike)
    speedup = statistics.median(b / a for a, b in zip(ours, loop))
    over_floor = statistics.median(a / b for a, b in zip(ours, floor))
    size = f"{CHAINS} chains, k={K}, d={D}, n={N}"
    # the same comparison with n = 50: less arithmetic per chain, so the loop's interpreter
    # overhead dominates it (information: where the 20x of the issue is reachable)
    small = _setup(50)
    ours_s, loop_s = [], []
    for _ in range(REPEATS):
        ours_s.append(_ours(small[1], small[2], small[3], h))
        loop_s.append(_loop(small[1], small[2], small[3], h))
    speedup_small = statistics.median(b / a for a, b in zip(ours_s, loop_s))
    return [
        dict(name=f"Langevin step (MALA) vs per-chain Python loop, {size}", ours_s=o, base_s=lo,
             baseline=f"same MALA step looped over chains (timed on {LOOP_CHAINS}, x{CHAINS // LOOP_CHAINS})",
             ratio=speedup, target=">= 20x faster", ok=speedup >= 20,
             extra=f"median of {REPEATS} interleaved per-round ratios; 1 BLAS thread; the floor itself is "
                   f"{statistics.median(b / a for a, b in zip(floor, loop)):.1f}x faster than the loop"),
        dict(name=f"Langevin step (MALA) vs batched numpy floor, {size}", ours_s=o, base_s=f,
             baseline="2 stacked GEMMs + 1 softmax + 1 Gaussian draw (plain numpy)",
             ratio=over_floor, target="<= 2x", ok=over_floor <= 2,
             extra=f"median of {REPEATS} interleaved per-round ratios; 1 BLAS thread"),
        dict(name=f"Langevin step (MALA) vs per-chain Python loop, {CHAINS} chains, k={K}, d={D}, n=50",
             ours_s=statistics.median(ours_s), base_s=statistics.median(loop_s),
             baseline="same MALA step looped over chains", ratio=speedup_small, target="(info)", ok=True,
             extra="smaller n: the loop's per-chain interpreter overhead dominates"),
    ]


if __name__ == "__main__":
    for row in benchmarks():
        print(row)
