r"""One teacher/student setting of the linear-Gaussian case study, and its safe parsing.

A setting is a flat table of numbers and names (docs/mathematics.md §2.1):

======================  =========================================  ==========
key                     meaning                                    default
======================  =========================================  ==========
``k``, ``d``, ``n``     output dim., input dim., sample size       6, 8, 200
``rank``                student rank :math:`r` (0 … min(k, d))      2
``noise``               label noise :math:`\nu > 0`                 0.5
``soft_noise``          soft-label noise :math:`\tau > 0`           = ν
``teacher_lam``         teacher ridge :math:`\lambda_T \ge 0`       1.0
``student_lam``         student ridge :math:`\lambda_S \ge 0`       0.5
``teacher_temperature`` :math:`t_T \ge 0` (1: exact posterior)      1.0
``student_temperature`` :math:`t_S \ge 0`                           1.0
``student``             ``"population"``, ``"sampled"``,            population
                        ``"shrinkage"``
``seed``                seed of the design, W⋆ and the data draw    0
``replicates``          Monte Carlo replicates per simulation       400
``n_grid``              sample sizes of the bounds-vs-n figure      [25, 50, 100, 200, 400]
======================  =========================================  ==========

The design is the built-in example's: :math:`W_\star = L\,\mathrm{diag}(1/j)\,R^\top` with
random orthonormal :math:`L, R`, :math:`X` with i.i.d. standard normal entries, drawn
from ``seed`` (``gaussdistill.example_problem``).

Files (``.toml`` or ``.json``) are read with :mod:`tomllib` / :mod:`json`: values must be
numbers, strings from the list above, or lists of integers for ``n_grid``; nothing is
evaluated. An unknown key or a bad value raises :class:`GaussDistillError` naming the key.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import re
from dataclasses import dataclass, field

from ..errors import GaussDistillError

__all__ = ["Setting", "DEFAULT_SETTING", "load_setting", "STUDENTS", "apply_overrides", "parse_assignments",
           "parse_value", "setting_from_mapping"]

STUDENTS = ("population", "sampled", "shrinkage")
_INTS = {"k": 1, "d": 1, "n": 1, "rank": 0, "seed": 0, "replicates": 2}
_POSITIVE = ("noise", "soft_noise")
_NONNEG = ("teacher_lam", "student_lam", "teacher_temperature", "student_temperature")


@dataclass(frozen=True)
class Setting:
    """A validated setting (see the module docstring for each key); immutable."""

    k: int = 6
    d: int = 8
    n: int = 200
    rank: int = 2
    noise: float = 0.5
    soft_noise: float | None = None
    teacher_lam: float = 1.0
    student_lam: float = 0.5
    teacher_temperature: float = 1.0
    student_temperature: float = 1.0
    student: str = "population"
    seed: int = 0
    replicates: int = 400
    n_grid: tuple = field(default=(25, 50, 100, 200, 400))

    def __post_init__(self):
        for key, minimum in _INTS.items():
            object.__setattr__(self, key, _int(key, getattr(self, key), minimum))
        for key in _POSITIVE + _NONNEG:
            value = getattr(self, key)
            if key == "soft_noise" and value is None:
                continue
            object.__setattr__(self, key, _float(key, value, positive=key in _POSITIVE))
        if not isinstance(self.student, str) or self.student not in STUDENTS:
            raise GaussDistillError(f"setting key 'student' must be one of {', '.join(STUDENTS)}; "
                                    f"got {self.student!r}")
        if self.rank > min(self.k, self.d):
            raise GaussDistillError(f"setting key 'rank' must be at most min(k, d) = "
                                    f"{min(self.k, self.d)}; got {self.rank}")
        grid = self.n_grid
        if isinstance(grid, (str, bytes)) or not hasattr(grid, "__iter__"):
            raise GaussDistillError(f"setting key 'n_grid' must be a list of positive integers; "
                                    f"got {grid!r}")
        grid = tuple(_int("n_grid", v, 1) for v in grid)
        if len(grid) < 2 or len(set(grid)) != len(grid):
            raise GaussDistillError(f"setting key 'n_grid' must hold at least two distinct sample "
                                    f"sizes; got {list(grid)}")
        object.__setattr__(self, "n_grid", tuple(sorted(grid)))
        smallest = min((self.n,) + self.n_grid)
        if smallest < self.d:  # X Xᵀ (d×d) is singular for that sample size
            if self.teacher_lam == 0:
                raise GaussDistillError(f"setting key 'teacher_lam' must be > 0 when a sample size "
                                        f"(n or n_grid, here {smallest}) is below d = {self.d}: "
                                        f"X X^T is then singular")
            if self.student_lam == 0 and self.student_temperature > 0:
                raise GaussDistillError(f"setting key 'student_lam' must be > 0 (or "
                                        f"student_temperature 0) when a sample size (n or n_grid, "
                                        f"here {smallest}) is below d = {self.d}: X X^T is then singular")

    @property
    def tau(self) -> float:
        """The soft-label noise τ actually used (ν when ``soft_noise`` is not set)."""
        return self.noise if self.soft_noise is None else self.soft_noise

    def replace(self, **changes) -> Setting:
        """A copy with some keys changed (validated again)."""
        unknown = sorted(set(changes) - set(KEYS))
        if unknown:
            raise GaussDistillError(f"unknown setting key {unknown[0]!r}; valid keys: {', '.join(KEYS)}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """The keys and values (``n_grid`` as a list), JSON- and TOML-ready."""
        out = dataclasses.asdict(self)
        out["n_grid"] = list(self.n_grid)
        if out["soft_noise"] is None:
            del out["soft_noise"]
        return out

    def problem(self, **changes):
        """``gaussdistill.example_problem`` for this setting (X, Y, W⋆, teacher, student)."""
        import gaussdistill as gd

        s = self.replace(**changes) if changes else self
        with s._naming_keys():
            return gd.example_problem(k=s.k, d=s.d, n=s.n, rank=s.rank, noise=s.noise,
                                      soft_noise=s.tau, teacher_lam=s.teacher_lam,
                                      student_lam=s.student_lam,
                                      teacher_temperature=s.teacher_temperature,
                                      student_temperature=s.student_temperature, seed=s.seed)

    def far_keys(self, threshold: float = 30.0) -> str:
        """'noise=1e+300, ...': the numeric keys more than 10**threshold away from 1 (else '')."""
        keys = ("noise", "soft_noise") + _NONNEG
        values = [(key, getattr(self, key)) for key in keys]
        return ", ".join(f"{key}={value:g}" for key, value in values
                         if isinstance(value, float) and value > 0 and abs(math.log10(value)) > threshold)

    @contextlib.contextmanager
    def _naming_keys(self):
        """Add the setting keys far from 1 to an overflow/underflow error of the library (its
        message names function arguments, e.g. ``lam``, not the setting's keys)."""
        try:
            yield
        except GaussDistillError as exc:
            far = self.far_keys()
            if not far:
                raise
            raise GaussDistillError(f"{exc} (setting keys far from 1: {far})") from None

    def case_study(self, **changes):
        """``gaussdistill.CaseStudy`` on this setting's design X and W⋆ (exact expectations)."""
        import gaussdistill as gd

        s = self.replace(**changes) if changes else self
        p = s.problem()
        with s._naming_keys():
            return gd.CaseStudy(p.X, p.w_star, noise=s.noise, soft_noise=s.tau,
                                teacher_lam=s.teacher_lam, student_lam=s.student_lam,
                                teacher_temperature=s.teacher_temperature,
                                student_temperature=s.student_temperature, rank=s.rank,
                                student=s.student)


KEYS = tuple(f.name for f in dataclasses.fields(Setting))


def _int(key, value, minimum):
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer() and math.isfinite(value):
            value = int(value)
        else:
            try:
                import numpy as np

                if isinstance(value, np.integer):
                    return _int(key, int(value), minimum)
            except ImportError:  # pragma: no cover
                pass
            raise GaussDistillError(f"setting key {key!r} must be an integer >= {minimum}; got {value!r}")
    if value < minimum:
        raise GaussDistillError(f"setting key {key!r} must be an integer >= {minimum}; got {value}")
    return value


def _float(key, value, positive):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            import numpy as np

            if isinstance(value, (np.integer, np.floating)):
                return _float(key, float(value), positive)
        except ImportError:  # pragma: no cover
            pass
        raise GaussDistillError(f"setting key {key!r} must be a number; got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        need = "> 0" if positive else ">= 0"
        raise GaussDistillError(f"setting key {key!r} must be a finite number {need}; got {value!r}")
    return value


def setting_from_mapping(data, source="setting") -> Setting:
    """A :class:`Setting` from a mapping of keys to numbers/names; unknown keys are errors."""
    if not isinstance(data, dict):
        raise GaussDistillError(f"{source} must hold a table of keys and values; got "
                                f"{type(data).__name__}")
    for key in data:
        if key not in KEYS:
            raise GaussDistillError(f"{source}: unknown setting key {key!r}; valid keys: "
                                    f"{', '.join(KEYS)}")
    for key, value in data.items():
        if isinstance(value, dict):
            raise GaussDistillError(f"{source}: setting key {key!r} must be a number or a name, "
                                    f"not a table")
    try:
        return Setting(**data)
    except GaussDistillError as exc:
        raise GaussDistillError(f"{source}: {exc}") from None


def _read_mapping(path, what: str) -> dict:
    """Parse a ``.toml`` or ``.json`` file (``what``: "setting file", "grid file") into a dict,
    never evaluating anything; every failure is a GaussDistillError naming the file. JSON keys
    must be unique and NaN/Infinity literals are read as floats (for the caller to reject by key)."""
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower()
    if ext not in (".toml", ".json"):
        raise GaussDistillError(f"{what} {path!r} must end in .toml or .json")
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise GaussDistillError(f"{what} {path!r} does not exist") from None
    except OSError as exc:
        raise GaussDistillError(f"{what} {path!r} cannot be read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
        if ext == ".toml":
            try:
                import tomllib
            except ModuleNotFoundError:  # Python 3.10
                import tomli as tomllib
            return tomllib.loads(text)
        return json.loads(text, parse_constant=float, object_pairs_hook=_unique_keys(f"{what} {path!r}"))
    except GaussDistillError:
        raise
    except (UnicodeDecodeError, ValueError) as exc:  # TOMLDecodeError, JSONDecodeError
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise GaussDistillError(f"{what} {path!r} is not valid {ext[1:].upper()}: {first}") from None


def load_setting(path) -> Setting:
    """Read a setting from a ``.toml`` or ``.json`` file (parsed, never evaluated).

    Raises :class:`GaussDistillError` naming the file and the key for an unknown key, a
    bad value, or a file that is not valid TOML / JSON.
    """
    data = _read_mapping(path, "setting file")
    return setting_from_mapping(data, source=f"setting file {os.fspath(path)!r}")


DEFAULT_SETTING = Setting()


def _unique_keys(source):
    """A ``json`` object hook that refuses a key given twice (JSON would keep the last silently)."""

    def hook(pairs):
        out = {}
        for key, value in pairs:
            if key in out:
                raise GaussDistillError(f"{source}: key {key!r} is given more than once")
            out[key] = value
        return out

    return hook


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_+|-]*")


def parse_value(text: str, what: str):
    """A number (int when written as one) or a plain name from command-line text.

    Only decimal numbers (``3``, ``0.5``, ``1e-3``) and names (letters, digits, ``_``) are
    accepted; nothing is evaluated. ``what`` names the flag in the error.
    """
    text = text.strip()
    if _NUMBER.fullmatch(text):
        value = float(text)
        if not math.isfinite(value):
            raise GaussDistillError(f"{what}: {text!r} is not a finite number")
        return int(text) if re.fullmatch(r"[+-]?\d+", text) else value
    if _NAME.fullmatch(text):
        return text
    raise GaussDistillError(f"{what}: {text!r} is neither a number nor a plain name")


def parse_assignments(items, flag: str) -> dict:
    """``["rank=1", "noise=0.3"]`` → ``{"rank": 1, "noise": 0.3}`` (``flag`` names the option).

    With ``flag="--grid"`` the right-hand side is a comma-separated list of values.
    """
    out = {}
    for item in items or ():
        key, sep, rhs = item.partition("=")
        key = key.strip()
        if not sep or not key or not rhs.strip():
            raise GaussDistillError(f"{flag} {item!r}: expected KEY=VALUE" +
                                    (",VALUE,..." if flag == "--grid" else ""))
        if key in out and flag == "--grid":
            raise GaussDistillError(f"{flag}: parameter {key!r} is given more than once; list all its "
                                    f"values in one {flag} {key}=V1,V2,...")
        if flag == "--grid":
            out[key] = [parse_value(v, f"{flag} {key}") for v in rhs.split(",") if v.strip()]
        else:
            out[key] = parse_value(rhs, f"{flag} {key}")
    return out


def apply_overrides(setting: Setting, items, flag: str = "--set") -> Setting:
    """The setting with ``KEY=VALUE`` assignments applied (unknown key or bad value: an error
    naming ``flag`` and the key)."""
    changes = parse_assignments(items, flag)
    if not changes:
        return setting
    try:
        return setting.replace(**changes)
    except GaussDistillError as exc:
        raise GaussDistillError(f"{flag}: {exc}") from None


def load_grid(path) -> dict:
    """A sweep grid from a ``.toml``/``.json`` file: ``{parameter: [numbers or names]}``.

    Parsed, never evaluated; a value that is not a list of numbers/names is an error
    naming the file and the parameter.
    """
    data = _read_mapping(path, "grid file")
    path = os.fspath(path)
    if not isinstance(data, dict) or not data:
        raise GaussDistillError(f"grid file {path!r} must map parameters to lists of values")
    for key, values in data.items():
        if not isinstance(values, list) or not values:
            raise GaussDistillError(f"grid file {path!r}: parameter {key!r} must be a non-empty list "
                                    f"of values; got {values!r:.60}")
        for v in values:
            ok = (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)) or \
                (isinstance(v, str) and _NAME.fullmatch(v))
            if not ok:
                raise GaussDistillError(f"grid file {path!r}: parameter {key!r} holds {v!r}; values "
                                        f"must be finite numbers or plain names")
    return data
