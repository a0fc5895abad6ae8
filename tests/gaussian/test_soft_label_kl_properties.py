"""Soft-label KL (row space, with the design spectrum when both teachers are ridge teachers on
their design) against the same laws given as dense n×n MatrixNormals, on random problems."""
from __future__ import annotations

import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gaussdistill as gd

entries = st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@st.composite
def soft_label_pairs(draw):
    k, d, n = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 6))
    X = draw(hnp.arrays(np.float64, (d, n), elements=entries))
    Y1 = draw(hnp.arrays(np.float64, (k, n), elements=entries))
    Y2 = draw(hnp.arrays(np.float64, (k, n), elements=entries))
    lams = [draw(st.floats(0.05, 2.0)) for _ in range(2)]
    noises = [draw(st.floats(0.2, 2.0)) for _ in range(2)]
    temps = [draw(st.sampled_from([0.0, 0.5, 1.0])) for _ in range(2)]
    taus = [draw(st.floats(0.2, 2.0)) for _ in range(2)]
    t1 = gd.ridge_teacher(X, Y1, lams[0], noises[0], temps[0])
    t2 = gd.ridge_teacher(X, Y2, lams[1], noises[1], temps[1])
    hand = draw(st.booleans())        # a hand-built teacher: the general row-space route
    if hand:
        t2 = gd.MatrixNormal(t2.mean, t2.col_cov)
    return gd.soft_labels(t1, X, taus[0]), gd.soft_labels(t2, X, taus[1])


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(soft_label_pairs())
def test_structured_soft_label_kl_equals_the_dense_route(pair):
    p, q = pair
    dense_p, dense_q = gd.MatrixNormal(p.mean, p.col_cov), gd.MatrixNormal(q.mean, q.col_cov)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gd.ConditioningWarning)
        for a, b, da, db in ((p, q, dense_p, dense_q), (q, p, dense_q, dense_p)):
            got, ref = gd.kl_matrix_normal(a, b), gd.kl_matrix_normal(da, db, rtol=0)
            assert abs(got - ref) <= 1e-9 * abs(ref) + 1e-12, (got, ref)
