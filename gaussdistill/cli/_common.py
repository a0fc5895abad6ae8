"""What the subcommands share: option types, the model options, building the kernels,
printing a decomposition (table or JSON), and turning failures into one-line errors.

JSON output (``--json``): an object ``{"problem": {...}, "divergences": [row, ...]}``. In each
row, ``total``, ``bias``, ``variance`` and ``rank`` are JSON numbers when finite and ``null``
when infinite; the row's ``reason`` is then a sentence saying why (it is ``null`` for a
finite row). Strict JSON (RFC 8259) has no infinity, and ``null`` cannot be mistaken for a
number. With ``--precision P`` the numbers are written with at most P significant digits.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import re
import warnings

import numpy as np

import gaussdistill as gd
from gaussdistill.errors import GaussDistillError

JSON_NOTE = 'JSON output: divergences are numbers; an infinite one is null and its row\'s "reason" says why.'

# Function-argument names as the command line spells them, per model stage.
TEACHER_FLAGS = {"lam": "--teacher-lam", "noise": "--noise", "temperature": "--teacher-temperature"}
STUDENT_FLAGS = {
    "lam": "--student-lam",
    "soft_noise": "--soft-noise",
    "temperature": "--student-temperature",
    "rank": "--rank",
}
DIVERGENCE_FLAGS = {"precision": "--precision", "soft_noise": "--soft-noise", "rank": "--rank"}

# The numeric model options, as (attribute, flag): named when a computation overflows.
NUMERIC_OPTIONS = (
    ("noise", "--noise"),
    ("soft_noise", "--soft-noise"),
    ("teacher_lam", "--teacher-lam"),
    ("student_lam", "--student-lam"),
    ("teacher_temperature", "--teacher-temperature"),
    ("student_temperature", "--student-temperature"),
)


class CLIError(GaussDistillError):
    """An error that ends the command with one line on stderr and exit status 2."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse with one-line errors: ``gaussdistill example: error: argument --noise: ...``.

    A value that starts like a negative number (``-1e-3``, ``-.5``, ``-inf``, ``-nan``) is read
    as a value, not as an option (argparse's own test knows only ``-1`` and ``-0.5``), so that
    ``--noise -1e-3`` is checked as a number (no option of this program looks like a number).
    """

    _NEGATIVE = re.compile(r"^-(\d|\.\d|inf|nan)", re.IGNORECASE)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = self._NEGATIVE

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


# ----------------------------------------------------------------------------- option types
def int_at_least(minimum: int, what: str, maximum: int | None = None):
    """An argparse type: an integer >= ``minimum`` (and <= ``maximum``); ``what`` names it."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
        return value

    return parse


positive_int = int_at_least(1, "a positive integer")
# mpmath digits: float64 inputs carry ~16; beyond 1000 digits a divergence takes minutes.
precision_digits = int_at_least(16, "an integer in 16..1000 (mpmath digits)", maximum=1000)
nonneg_int = int_at_least(0, "an integer >= 0")


def finite_float(text):
    """An argparse type: a finite float64 number (no inf, nan, or overflow to inf)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number (|x| < 1.8e308), got {text!r}")
    return value


def add_model_options(p):
    """The model options shared by ``example`` and ``evaluate``."""
    p.add_argument("--rank", type=nonneg_int, default=2, help="student rank r (default 2)")
    p.add_argument("--noise", type=finite_float, default=0.5, help="label noise ν > 0 (default 0.5)")
    p.add_argument("--soft-noise", type=finite_float, default=None, help="soft-label noise τ > 0 (default ν)")
    p.add_argument("--teacher-lam", type=finite_float, default=1.0, help="teacher ridge λ_T (default 1)")
    p.add_argument("--student-lam", type=finite_float, default=0.5, help="student ridge λ_S (default 0.5)")
    p.add_argument("--teacher-temperature", type=finite_float, default=1.0, help="t_T (default 1: posterior)")
    p.add_argument("--student-temperature", type=finite_float, default=1.0, help="t_S (default 1)")
    p.add_argument("--kind", action="append", choices=gd.KINDS, help="divergence kind (repeatable; default all)")
    p.add_argument(
        "--direction", action="append", choices=gd.DIRECTIONS, help="KL direction (repeatable; default both)"
    )
    p.add_argument(
        "--precision",
        type=precision_digits,
        default=None,
        help="evaluate in mpmath with this many significant digits (16..1000; default float64)",
    )
    p.add_argument("--json", action="store_true", help="machine-readable JSON output")


def subcommand_parser(subparsers, name, help_text, examples):
    """A subparser whose ``--help`` ends with usage examples (``examples``: command lines)."""
    epilog = "examples:\n" + "\n".join(f"  {line}" if line else "" for line in examples)
    return subparsers.add_parser(
        name,
        help=help_text,
        description=help_text[:1].upper() + help_text[1:] + ".",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


# ----------------------------------------------------------------------------- building
def add_setting_arguments(p, set_help: str):
    """The SETTING file positional and the repeatable --set KEY=VALUE of report, simulate, sweep."""
    p.add_argument("setting", nargs="?", default=None, metavar="SETTING",
                   help="settings file (.toml or .json); default: the built-in setting")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help=set_help)


PROGRESS = {"auto": None, "always": True, "never": False}   # --progress -> the library's progress=


def add_progress_argument(p, help_text: str):
    p.add_argument("--progress", choices=tuple(PROGRESS), default="auto", help=help_text)


@contextlib.contextmanager
def flag_names(flags):
    """Re-raise a GaussDistillError with function argument names replaced by CLI flags."""
    try:
        yield
    except GaussDistillError as exc:
        message = str(exc).replace("precision=50", "--precision 50")
        for name, flag in flags.items():
            # snake_case names are identifiers wherever they stand; plain words ("noise",
            # "rank") only where they name the argument ("noise = 1e+160", "rank must ...").
            after = r"(?![A-Za-z0-9_])" if "_" in name else r"(?= ?=| must| >| <| has)"
            message = re.sub(rf"(?<![\w-]){name}{after}", flag, message)
        raise CLIError(message) from None


def build_kernels(X, Y, args):
    """Teacher and student from data and the model options shared by the subcommands."""
    with flag_names(TEACHER_FLAGS):
        teacher = gd.ridge_teacher(X, Y, args.teacher_lam, args.noise, args.teacher_temperature)
    soft_noise = args.noise if args.soft_noise is None else args.soft_noise
    with flag_names(STUDENT_FLAGS):
        student = gd.rank_student(
            teacher,
            teacher.design,
            args.rank,
            lam=args.student_lam,
            soft_noise=soft_noise,
            temperature=args.student_temperature,
        )
    return teacher, student, soft_noise


def decomposition_rows(student, teacher, X, soft_noise, args):
    """One divergence result per requested (kind, direction)."""
    rows = []
    with flag_names(DIVERGENCE_FLAGS):
        for kind in args.kind or gd.KINDS:
            for direction in args.direction or gd.DIRECTIONS:
                rows.append(gd.divergence(student, teacher, X, soft_noise, kind, direction, precision=args.precision))
    return rows


def model_header(args, soft_noise):
    return {
        "r": args.rank,
        "nu": args.noise,
        "tau": soft_noise,
        "lambda_T": args.teacher_lam,
        "lambda_S": args.student_lam,
        "t_T": args.teacher_temperature,
        "t_S": args.student_temperature,
    }


# ----------------------------------------------------------------------------- output
PARTS = ("total", "bias", "variance", "rank")


class _Number:
    """A number already formatted as JSON text (so that the digits written are ours)."""

    def __init__(self, text):
        self.text = text


def json_number(value, digits=None):
    """A finite value as JSON number text (``digits`` significant digits), None when infinite.

    float64 values are written with ``repr`` (the shortest text that reads back exactly);
    mpmath values with ``digits`` significant digits and no more.
    """
    if isinstance(value, (float, int, np.floating, np.integer)):
        value = float(value)
        if math.isnan(value):
            raise CLIError("internal error: a divergence came out as NaN; please report the command")
        return _Number(repr(value)) if math.isfinite(value) else None
    import mpmath

    if mpmath.isinf(value):
        return None
    if mpmath.isnan(value):
        raise CLIError("internal error: a divergence came out as NaN; please report the command")
    text = mpmath.nstr(value, digits or mpmath.mp.dps, min_fixed=-4, max_fixed=16)
    if "." not in text and "e" not in text:
        text += ".0"
    return _Number(text)


def dump_json(obj, out, indent=2, level=0):
    """``json.dump`` with indentation, where :class:`_Number` leaves are written verbatim."""
    pad, inner = " " * (indent * level), " " * (indent * (level + 1))
    if isinstance(obj, _Number):
        out.write(obj.text)
    elif isinstance(obj, dict):
        if not obj:
            out.write("{}")
            return
        out.write("{\n")
        for i, (key, val) in enumerate(obj.items()):
            out.write(inner + json.dumps(str(key)) + ": ")
            dump_json(val, out, indent, level + 1)
            out.write(",\n" if i < len(obj) - 1 else "\n")
        out.write(pad + "}")
    elif isinstance(obj, (list, tuple)):
        if not obj:
            out.write("[]")
            return
        out.write("[\n")
        for i, val in enumerate(obj):
            out.write(inner)
            dump_json(val, out, indent, level + 1)
            out.write(",\n" if i < len(obj) - 1 else "\n")
        out.write(pad + "]")
    elif isinstance(obj, float):
        out.write(json.dumps(obj, allow_nan=False) if math.isfinite(obj) else "null")
    else:
        out.write(json.dumps(obj, allow_nan=False))
    if level == 0:
        out.write("\n")


def _row_dict(r):
    row = {part: json_number(getattr(r, part), r.precision) for part in PARTS}
    row.update(
        kind=r.kind,
        direction=r.direction,
        rank_used=int(r.rank_used),
        reason=None if r.reason is None else str(r.reason),
        precision=r.precision,
    )
    return row


def _fmt(value, digits) -> str:
    if isinstance(value, (float, int, np.floating)):
        return f"{float(value):.6g}"
    import mpmath

    return mpmath.nstr(value, digits)


def print_rows(rows, header, as_json, out):
    """The decomposition table (or JSON) of ``rows`` under a one-line ``header``."""
    if as_json:
        dump_json({"problem": header, "divergences": [_row_dict(r) for r in rows]}, out)
        return
    digits = rows[0].precision or 15
    out.write("gaussdistill " + gd.__version__ + ": " + ", ".join(f"{k}={v}" for k, v in header.items()) + "\n\n")
    cols = ["kind", "direction", "variance", "bias", "rank", "total"]
    table = [[r.kind, r.direction] + [_fmt(getattr(r, c), digits) for c in cols[2:]] for r in rows]
    widths = [max(len(x) for x in col) for col in zip(cols, *table)]
    out.write("  ".join(c.ljust(w) for c, w in zip(cols, widths)).rstrip() + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for line in table:
        out.write("  ".join(x.ljust(w) for x, w in zip(line, widths)).rstrip() + "\n")
    for r in rows:
        if r.reason:
            out.write(f"\n{r.kind} ({r.direction}) is infinite: {r.reason}\n")
    used = sorted({int(r.rank_used) for r in rows if r.reason is None and r.rank_used >= 0})
    at = f"rank bottleneck at r = {', '.join(map(str, used))}; " if used else ""
    out.write(f"\n{at}bias + variance + rank = total (docs/mathematics.md §2.3)\n")


# ----------------------------------------------------------------------------- failures
def _numeric_options(args) -> list[tuple[str, float]]:
    """(flag, value) of the nonzero numeric model options, farthest from 1 first."""
    values = [(flag, getattr(args, attr, None)) for attr, flag in NUMERIC_OPTIONS]
    found = [(flag, v) for flag, v in values if isinstance(v, float) and v != 0.0]
    return sorted(found, key=lambda fv: -abs(math.log10(abs(fv[1]))))


def extreme_options(args, threshold=30.0) -> str:
    """'--noise 1e+160, ...': the numeric options more than 10**threshold away from 1."""
    return ", ".join(
        f"{flag} {value:g}" for flag, value in _numeric_options(args) if abs(math.log10(abs(value))) > threshold
    )


def overflow_message(args, exc) -> str:
    """One line for a computation that left float64's range: name the extreme options."""
    where = extreme_options(args)
    if not where:
        where = (
            "the input data"
            if getattr(args, "input", None)
            else ", ".join(f"{flag} {value:g}" for flag, value in _numeric_options(args)[:2])
        )
    return (
        f"the computation left float64's range ({type(exc).__name__}) with {where}; "
        "use values closer to 1 (or rescale X and Y)"
    )


@contextlib.contextmanager
def quiet_numpy():
    """Collect warnings: numpy's RuntimeWarnings never reach stderr before an error line.

    Yields a list that receives the warnings raised; :func:`report_warnings` prints them
    (one line each) after a successful command. Underflow is ignored, as in ``report``,
    ``simulate`` and ``sweep``: a term flushed to 0 below 1e-308 changes a divergence by less
    than float64 resolves (the library itself refuses covariances that underflow), and the
    warning lines only alarmed (``--teacher-lam 1e300``: every number equal to 30-digit mpmath).
    """
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="warn", under="ignore"):
        warnings.simplefilter("always")
        yield caught


def report_warnings(caught, err) -> None:
    """After a successful command: one line per distinct gaussdistill or numpy warning.

    Other warnings (from libraries) go back through Python's own filters.
    """
    seen = set()
    for w in caught:
        if issubclass(w.category, gd.GaussDistillWarning):
            text = str(w.message).replace("precision=50", "--precision 50")
        elif issubclass(w.category, RuntimeWarning):
            text = f"numpy reported '{w.message}' during the computation; check the result with --precision 50"
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            continue
        if text not in seen:
            seen.add(text)
            err.write(f"gaussdistill: warning: {text}\n")
