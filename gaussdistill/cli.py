"""Command line: ``gaussdistill example``, ``gaussdistill evaluate`` and ``gaussdistill derive``.

Errors in the input end with a one-line message on stderr naming the argument and
what would be valid, and exit status 2 — never a traceback.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import sys
import zipfile

import numpy as np

from . import __version__
from .divergences import DIRECTIONS, KINDS, divergence
from .errors import GaussDistillError
from .examples import example_data
from .kernels import rank_student, ridge_teacher


def _decomposition_rows(student, teacher, X, soft_noise, kinds, directions, rank, precision):
    rows = []
    for kind in kinds:
        for direction in directions:
            rows.append(divergence(student, teacher, X, soft_noise, kind, direction,
                                   rank=rank, precision=precision))
    return rows


def _number(value):
    # Strict JSON (RFC 8259) has no Infinity/NaN: an infinite divergence is written "inf".
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    import mpmath

    return str(float(value)) if value in (mpmath.inf, -mpmath.inf) else mpmath.nstr(value, 40)


def _print_rows(rows, header, as_json, out):
    if as_json:
        json.dump({"problem": header, "divergences": [
            {key: _number(val) if key in ("total", "bias", "variance", "rank") else val
             for key, val in r.to_dict().items()} for r in rows]}, out, indent=2, allow_nan=False)
        out.write("\n")
        return
    out.write("gaussdistill " + __version__ + ": " + ", ".join(f"{k}={v}" for k, v in header.items()) + "\n\n")
    cols = ["kind", "direction", "variance", "bias", "rank", "total"]
    table = [[r.kind, r.direction] + [_fmt(getattr(r, c)) for c in cols[2:]] for r in rows]
    widths = [max(len(x) for x in col) for col in zip(cols, *table)]
    out.write("  ".join(c.ljust(w) for c, w in zip(cols, widths)) + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for line in table:
        out.write("  ".join(x.ljust(w) for x, w in zip(line, widths)) + "\n")
    for r in rows:
        if r.reason:
            out.write(f"\n{r.kind} ({r.direction}) is infinite: {r.reason}\n")
    out.write(f"\nrank bottleneck at r = {rows[0].rank_used}; bias + variance + rank = total (MATH 2.3)\n")


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    import mpmath

    return mpmath.nstr(value, 15)


# Function-argument names as the command line spells them, per model stage.
TEACHER_FLAGS = {"lam": "--teacher-lam", "noise": "--noise", "temperature": "--teacher-temperature"}
STUDENT_FLAGS = {"lam": "--student-lam", "soft_noise": "--soft-noise",
                 "temperature": "--student-temperature", "rank": "--rank"}


@contextlib.contextmanager
def _flag_names(flags):
    """Re-raise a GaussDistillError with function argument names replaced by CLI flags."""
    try:
        yield
    except GaussDistillError as exc:
        message = str(exc)
        for name, flag in flags.items():
            message = re.sub(rf"(?<![\w-]){name}(?==| must| >| <)", flag, message)
        raise GaussDistillError(message) from None


def _build_kernels(X, Y, args):
    """Teacher and student from data and the model options shared by the subcommands."""
    with _flag_names(TEACHER_FLAGS):
        teacher = ridge_teacher(X, Y, args.teacher_lam, args.noise, args.teacher_temperature)
    soft_noise = args.noise if args.soft_noise is None else args.soft_noise
    with _flag_names(STUDENT_FLAGS):
        student = rank_student(teacher, teacher.design, args.rank, lam=args.student_lam,
                               soft_noise=soft_noise, temperature=args.student_temperature)
    return teacher, student, soft_noise


def _model_header(args, soft_noise):
    return {"r": args.rank, "nu": args.noise, "tau": soft_noise, "lambda_T": args.teacher_lam,
            "lambda_S": args.student_lam, "t_T": args.teacher_temperature,
            "t_S": args.student_temperature}


def _cmd_example(args, out):
    with _flag_names(TEACHER_FLAGS):
        X, Y, _ = example_data(args.k, args.d, args.n, args.noise, args.seed)
    teacher, student, soft_noise = _build_kernels(X, Y, args)
    rows = _decomposition_rows(student, teacher, X, soft_noise, args.kind or KINDS,
                               args.direction or DIRECTIONS, None, args.precision)
    header = {"k": args.k, "d": args.d, "n": args.n, **_model_header(args, soft_noise), "seed": args.seed}
    _print_rows(rows, header, args.json, out)


def _load_arrays(path):
    """Arrays X (d×n) and Y (k×n) from an .npz file or a JSON object of nested lists."""
    if path.endswith(".npz") and os.path.isfile(path) and not zipfile.is_zipfile(path):
        raise GaussDistillError(f"input file {path!r} is not a valid .npz archive (not a zip file); "
                                f"write one with numpy.savez(path, X=X, Y=Y)")
    try:
        if path.endswith(".npz"):
            with np.load(path) as data:
                return {key: data[key] for key in data.files}
        with open(path) as fh:
            raw = json.load(fh)
    except FileNotFoundError:
        raise GaussDistillError(f"input file {path!r} does not exist") from None
    except (OSError, ValueError) as exc:
        raise GaussDistillError(f"input file {path!r} is not a valid .npz or JSON file ({exc})") from None
    if not isinstance(raw, dict):
        raise GaussDistillError(f"input file {path!r} must hold a JSON object with keys 'X' and 'Y'")
    return raw


def _cmd_evaluate(args, out):
    arrays = _load_arrays(args.input)
    missing = [key for key in ("X", "Y") if key not in arrays]
    if missing:
        raise GaussDistillError(f"input file {args.input!r} lacks {', '.join(missing)}: it needs arrays "
                                f"'X' (d×n, columns are samples) and 'Y' (k×n)")
    teacher, student, soft_noise = _build_kernels(arrays["X"], arrays["Y"], args)
    rows = _decomposition_rows(student, teacher, teacher.design, soft_noise, args.kind or KINDS,
                               args.direction or DIRECTIONS, None, args.precision)
    d, n = teacher.design.shape
    header = {"input": args.input, "k": teacher.shape[0], "d": d, "n": n, **_model_header(args, soft_noise)}
    _print_rows(rows, header, args.json, out)


def _cmd_derive(args, out):
    from . import symbolic

    kinds = args.kind or KINDS
    directions = args.direction or DIRECTIONS[:1]
    decs = [symbolic.aligned_decomposition(kind, direction, expectation=not args.noiseless,
                                           student=args.student, d=args.d, rank=args.rank)
            for kind in kinds for direction in directions]
    if args.out:
        for path in symbolic.export_latex(decs, args.out):
            out.write(f"wrote {path}\n")
        return
    for dec in decs:
        out.write(f"% {dec!r}\n")
        if args.steps:
            out.write(dec.derivation() + "\n")
        if args.latex:
            out.write(dec.latex() + "\n\n")
            continue
        for part in ("variance", "bias", "rank", "total"):
            out.write(f"{part} = {getattr(dec, part)}\n")
        out.write("\n")


def _int_at_least(minimum: int, what: str):
    """An argparse type: an integer >= ``minimum`` (``what`` names it in the error)."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
        return value
    return parse


_positive_int = _int_at_least(1, "a positive integer")
_nonneg_int = _int_at_least(0, "an integer >= 0")


def _add_model_options(p):
    p.add_argument("--rank", type=_nonneg_int, default=2, help="student rank r (default 2)")
    p.add_argument("--noise", type=float, default=0.5, help="label noise ν > 0 (default 0.5)")
    p.add_argument("--soft-noise", type=float, default=None, help="soft-label noise τ > 0 (default ν)")
    p.add_argument("--teacher-lam", type=float, default=1.0, help="teacher ridge λ_T (default 1)")
    p.add_argument("--student-lam", type=float, default=0.5, help="student ridge λ_S (default 0.5)")
    p.add_argument("--teacher-temperature", type=float, default=1.0, help="t_T (default 1: posterior)")
    p.add_argument("--student-temperature", type=float, default=1.0, help="t_S (default 1)")
    p.add_argument("--kind", action="append", choices=KINDS, help="divergence kind (repeatable; default all)")
    p.add_argument("--direction", action="append", choices=DIRECTIONS,
                   help="KL direction (repeatable; default both)")
    p.add_argument("--precision", type=_positive_int, default=None,
                   help="evaluate in mpmath with this many digits (default float64)")
    p.add_argument("--json", action="store_true", help="machine-readable JSON output")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gaussdistill",
        description="Distillation divergences of the linear-Gaussian teacher/student model "
                    "and their bias/variance/rank-bottleneck decomposition.")
    parser.add_argument("--version", action="version", version=f"gaussdistill {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("example", help="decompose the divergences of a built-in example pair")
    ex.add_argument("--k", type=_positive_int, default=6, help="output dimension k (default 6)")
    ex.add_argument("--d", type=_positive_int, default=8, help="input dimension d (default 8)")
    ex.add_argument("--n", type=_positive_int, default=200, help="sample size n (default 200)")
    ex.add_argument("--seed", type=_nonneg_int, default=0, help="random seed (default 0)")
    _add_model_options(ex)
    ex.set_defaults(handler=_cmd_example)
    ev = sub.add_parser("evaluate", help="decompose the divergences for your data X, Y (.npz or .json)")
    ev.add_argument("input", help="file with arrays X (d×n) and Y (k×n): .npz, or JSON of nested lists")
    _add_model_options(ev)
    ev.set_defaults(handler=_cmd_evaluate)
    de = sub.add_parser("derive", help="derive the closed-form decomposition in the aligned spectral model (sympy)")
    de.add_argument("--kind", action="append", choices=KINDS, help="divergence kind (repeatable; default all)")
    de.add_argument("--direction", action="append", choices=DIRECTIONS,
                    help="KL direction (repeatable; default student||teacher)")
    de.add_argument("--d", type=_positive_int, default=2, help="number of modes d (default 2)")
    de.add_argument("--rank", type=_nonneg_int, default=None, help="student rank r (default: full rank)")
    de.add_argument("--student", choices=("population", "shrinkage", "sampled"), default="population",
                    help="student model (default population)")
    de.add_argument("--noiseless", action="store_true",
                    help="noiseless labels Y = W⋆X instead of the expectation over the label noise")
    de.add_argument("--latex", action="store_true", help="print LaTeX (an align of the decomposition)")
    de.add_argument("--steps", action="store_true", help="print the recorded derivation steps")
    de.add_argument("--out", default=None, help="write a .tex snippet here and a standalone document beside it")
    de.set_defaults(handler=_cmd_derive)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.handler(args, sys.stdout)
    except BrokenPipeError:  # output piped into e.g. `head`: stop quietly
        sys.stderr.close()
        return 0
    except GaussDistillError as exc:
        print(f"gaussdistill: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. --out in a folder that does not exist
        print(f"gaussdistill: error: cannot write {exc.filename!r}: {exc.strerror}", file=sys.stderr)
        return 2
    return 0
