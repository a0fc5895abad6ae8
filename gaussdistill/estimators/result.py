"""The result type of the KL estimators."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class KLEstimate:
    """An estimate of KL(p ‖ q) from samples, with its standard error.

    Attributes
    ----------
    value : float
        The estimate (``inf`` when the fitted laws have different supports; see ``note``).
    stderr : float
        Its standard error (one standard deviation of the sampling spread; it does not
        include the estimator's bias, which the method's docstring describes).
    method : str
        ``"knn"`` or ``"gaussian"``.
    n_p, n_q : int
        Number of draws from p and from q.
    dim : int
        Dimension of one draw.
    k : int or None
        Neighbour order of the k-NN estimator (``None`` for the Gaussian plug-in).
    stderr_method : str
        How ``stderr`` was obtained (``"batch means (B batches)"`` or ``"delta method"``).
    plugin : float or None
        The Gaussian method's uncorrected plug-in value (``None`` for k-NN).
    note : str
        Free text: why a value is infinite, bias caveats.
    """

    value: float
    stderr: float
    method: str
    n_p: int
    n_q: int
    dim: int
    k: int | None = None
    stderr_method: str = ""
    plugin: float | None = None
    note: str = field(default="")

    def to_dict(self) -> dict:
        """The fields as a plain dict that strict JSON accepts (``json.dumps(d, allow_nan=False)``).

        Numbers are Python ``int``/``float``, text ``str``. A non-finite ``value``, ``stderr``
        or ``plugin`` (``inf`` when the fitted laws have different supports; a k-NN ``stderr``
        with too few rows for its batches) is written ``None``, the package's JSON encoding of
        an infinite divergence (docs/api.md, "JSON output"), and the extra key ``"reason"``
        says why: ``note`` for an infinite ``value``, else which field and, for ``stderr``,
        ``stderr_method``. ``"reason"`` is ``None`` when every number is finite. The object
        itself keeps ``inf``; ``plugin`` and ``k`` are also ``None`` where they do not apply.
        """
        out = asdict(self)
        infinite = []
        for key in ("value", "stderr", "plugin"):
            if out[key] is not None:
                out[key] = float(out[key])
                if not math.isfinite(out[key]):
                    out[key] = None
                    infinite.append(key)
        if not infinite:
            out["reason"] = None
        elif "value" in infinite:
            out["reason"] = self.note or "value is infinite"
        else:
            out["reason"] = "; ".join(f"{key} is infinite" + (f" ({self.stderr_method})" if key == "stderr" else "")
                                      for key in infinite)
        return out

    def __float__(self) -> float:
        return float(self.value)
