"""Operator algebra of the aligned spectral model: matrices reduced to per-mode scalars.

In the aligned model (docs/mathematics.md §2.4) every matrix of docs/mathematics.md §2.1–2.2 is diagonal in a shared
basis, so each matrix identity reduces to one scalar identity per mode.  This module is
the only place that knows the bases; everything else manipulates the objects below.

Bases
-----
``V``  weight space R^d, eigenvectors v_j of X Xᵀ = V diag(s) Vᵀ.
``Q``  output space R^n, q_j = Xᵀ v_j / sqrt(s_j) (j = 1..d) plus an (n-d)-dimensional
       complement on which Xᵀ(...)X vanishes; an operator there has one eigenvalue
       ``rest``.
``U``  output-row space R^k, u_j = the left singular vectors of W⋆ = U diag(w) Vᵀ
       (requires k >= d), and the label-noise directions G_j = E q_j ~ N(0, I_k),
       independent over j.

Why not sympy's matrix calculus: ``log(det(X)).diff(X)`` silently returns 0 and
``Trace``/``Determinant`` cannot be lambdified.  Here the only
symbolic objects are scalars; the matrix expressions are kept for display only.

Each object stores ``d + 1`` per-mode entries: the ``d`` concrete modes and, last, a
*generic* mode ``j`` (symbols ``s_j``, ``w_j``, indicator ``kappa_j``) run through the
same operations, so the derivation can be printed as ``sum_j (term_j)`` without ever
typing the term.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from ._symbols import ModelSymbols


@dataclass(frozen=True)
class Step:
    """One recorded derivation step: a matrix identity and its per-mode reduction."""

    title: str
    matrix: str  # LaTeX of the matrix-level statement (display only)
    mode: sp.Expr | None  # the generic-mode scalar it reduces to (derived, not typed)
    mode_label: str = ""  # LaTeX of the left-hand side of the per-mode statement
    note: str = ""


@dataclass(frozen=True)
class Spectral:
    """A symmetric operator diagonal in basis ``V`` or ``Q``.

    ``modes[j]`` is the eigenvalue on v_j (or q_j); ``modes[-1]`` is the generic mode.
    ``rest`` is the eigenvalue on the (n-d)-dimensional complement of the ``Q`` basis
    (``None`` for ``V``).
    """

    basis: str
    modes: tuple
    rest: sp.Expr | None = None

    def _zip(self, other, op):
        if not isinstance(other, Spectral):
            raise TypeError("Spectral operators combine only with Spectral operators")
        if other.basis != self.basis:
            raise ValueError(f"basis mismatch {self.basis} vs {other.basis}")
        rest = None if self.rest is None else op(self.rest, other.rest)
        return Spectral(self.basis, tuple(op(a, b) for a, b in zip(self.modes, other.modes)), rest)

    def __add__(self, other):
        return self._zip(other, lambda a, b: a + b)

    def __matmul__(self, other):
        # Both diagonal in the same basis: the product is diagonal with product eigenvalues.
        return self._zip(other, lambda a, b: a * b)

    def scale(self, c):
        return Spectral(self.basis, tuple(c * a for a in self.modes),
                        None if self.rest is None else c * self.rest)

    def inv(self):
        return Spectral(self.basis, tuple(1 / a for a in self.modes),
                        None if self.rest is None else 1 / self.rest)

    def sqrt(self):
        return Spectral(self.basis, tuple(sp.sqrt(a) for a in self.modes),
                        None if self.rest is None else sp.sqrt(self.rest))

    def apply(self, fn):
        """Spectral calculus f(A) = V diag(f(a_j)) Vᵀ."""
        return Spectral(self.basis, tuple(fn(a) for a in self.modes),
                        None if self.rest is None else fn(self.rest))

    @property
    def generic(self):
        return self.modes[-1]

    @property
    def concrete(self):
        return self.modes[:-1]


@dataclass(frozen=True)
class Columns:
    """A k×d random matrix M through its columns in the V basis.

        M v_j = a_j u_j + b_in_j P G_j + b_out_j (I - P) G_j
                        + z_in_j P Z_j + z_out_j (I - P) Z_j,

    with G_j ~ N(0, I_k) i.i.d. (the label noise seen through q_j), Z_j ~ N(0, I_k)
    i.i.d. and independent of G (the soft-label sampling noise of the "sampled" student),
    and P the projector on the oracle subspace span(u_1..u_r).  Before any projection
    ``split`` is False, ``b_in == b_out`` and ``z_in == z_out``.  Entries: d concrete
    modes plus the generic mode (last).
    """

    a: tuple
    b_in: tuple
    b_out: tuple
    split: bool = False
    z_in: tuple | None = None
    z_out: tuple | None = None

    def _z(self):
        zero = tuple(sp.Integer(0) for _ in self.a)
        return (self.z_in or zero), (self.z_out or zero)

    def scale(self, op: Spectral):
        """M ↦ M A for A diagonal in the V basis (scales column j by a_j(A))."""
        if op.basis != "V":
            raise ValueError("columns scale only by V-basis operators")
        m = op.modes
        zi, zo = self._z()

        def mul(xs):
            return tuple(x * c for x, c in zip(xs, m))

        return Columns(mul(self.a), mul(self.b_in), mul(self.b_out), self.split,
                       mul(zi), mul(zo))

    def with_sampling_noise(self, coeffs):
        """Add independent noise coeffs_j Z_j to column j (before any projection)."""
        zi, _ = self._z()
        z = tuple(a + c for a, c in zip(zi, coeffs))
        return Columns(self.a, self.b_in, self.b_out, self.split, z, z)

    def __sub__(self, other):
        zi, zo = self._z()
        yi, yo = other._z()

        def sub(xs, ys):
            return tuple(x - y for x, y in zip(xs, ys))

        return Columns(sub(self.a, other.a), sub(self.b_in, other.b_in),
                       sub(self.b_out, other.b_out), self.split or other.split,
                       sub(zi, yi), sub(zo, yo))

    def project(self, kappa: tuple, complement: bool = False):
        """Left-multiply by P (or I - P when ``complement``).

        P u_j = kappa_j u_j (kappa_j = 1 for the kept modes j <= r, else 0), and P G_j,
        P Z_j are the in-subspace parts of the noises.
        """
        zi, zo = self._z()
        zero = tuple(0 * x for x in self.a)
        if complement:
            a = tuple(x * (1 - c) for x, c in zip(self.a, kappa))
            return Columns(a, zero, self.b_out, True, zero, zo)
        a = tuple(x * c for x, c in zip(self.a, kappa))
        return Columns(a, self.b_in, zero, True, zi, zero)

    def expected_sq_norms(self, k, r):
        """E ‖M v_j‖² per mode: a_j² + r (b_in_j² + z_in_j²) + (k - r)(b_out_j² + z_out_j²)
        (cross terms have mean 0: G, Z independent and centred).

        ``r`` is a scalar or one entry per mode (the generic mode may use the symbol r).
        """
        out = []
        rs = r if isinstance(r, tuple) else (r,) * len(self.a)
        zi, zo = self._z()
        for a, bi, bo, ci, co, r in zip(self.a, self.b_in, self.b_out, zi, zo, rs):
            if self.split:
                out.append(a**2 + r * (bi**2 + ci**2) + (k - r) * (bo**2 + co**2))
            else:
                out.append(a**2 + k * (bi**2 + ci**2))
        return tuple(out)

    def expected_noise_inner(self, k, r):
        """E⟨G_j, M v_j⟩ per mode: r b_in_j + (k - r) b_out_j (= k b_j before projection),
        since E⟨G, P G⟩ = tr P = r, E⟨G, u_j⟩ = 0 and Z is independent of G."""
        rs = r if isinstance(r, tuple) else (r,) * len(self.a)
        if not self.split:
            return tuple(k * bi for bi in self.b_in)
        return tuple(r * bi + (k - r) * bo for bi, bo, r in zip(self.b_in, self.b_out, rs))


@dataclass
class Derivation:
    """Builds the model's operators from their matrix definitions and records each step."""

    S: ModelSymbols
    steps: list = field(default_factory=list)

    # --- primitives --------------------------------------------------------------
    def record(self, title, matrix, mode=None, mode_label="", note=""):
        self.steps.append(Step(title, matrix, mode, mode_label, note))

    def identity(self, basis):
        one = sp.Integer(1)
        return Spectral(basis, (one,) * (self.S.d + 1), one if basis == "Q" else None)

    def gram(self):
        """X Xᵀ = V diag(s) Vᵀ (the defining assumption of the aligned model)."""
        return Spectral("V", tuple(self.S.s) + (self.S.s_j,))

    def conj_out(self, op: Spectral) -> Spectral:
        """Xᵀ A X for A in the V basis: X = V diag(sqrt s) Q_dᵀ gives eigenvalue s_j a_j on
        q_j and 0 on the complement of range(Xᵀ)."""
        if op.basis != "V":
            raise ValueError("Xᵀ A X needs A in the V basis")
        g = self.gram()
        return Spectral("Q", tuple(s * a for s, a in zip(g.modes, op.modes)), sp.Integer(0))

    def conj_in(self, op: Spectral) -> Spectral:
        """X B Xᵀ for B in the Q basis: eigenvalue s_j b_j on v_j (the complement of Q is
        annihilated by X)."""
        if op.basis != "Q":
            raise ValueError("X B Xᵀ needs B in the Q basis")
        g = self.gram()
        return Spectral("V", tuple(s * b for s, b in zip(g.modes, op.modes)))

    def kappa(self, rank):
        """Indicator of the kept modes: 1 for j <= rank, 0 otherwise; generic kappa_j."""
        d = self.S.d
        return tuple(sp.Integer(1 if j < rank else 0) for j in range(d)) + (self.S.kappa_j,)
