"""Model-free numerics: special functions, backends, the PSD factor, reduced covariances.

Nothing here knows about matrix normal laws or distillation; the Gaussian laws
(:mod:`gaussdistill.gaussian`) and the case study (:mod:`gaussdistill.linear_gaussian`)
are written on top of it.
"""
from .special import u_minus_log1p, u_minus_log1p_mp

__all__ = ["u_minus_log1p", "u_minus_log1p_mp"]
