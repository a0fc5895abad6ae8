"""``gaussdistill evaluate FILE``: the decomposition for the user's data X (d×n), Y (k×n)."""

from __future__ import annotations

import json
import math
import os
import zipfile

import numpy as np

import gaussdistill as gd

from . import _common as c

NAME = "evaluate"


def add_parser(subparsers):
    p = c.subcommand_parser(
        subparsers,
        NAME,
        "decompose the divergences for your data X, Y (.npz or .json)",
        [
            "python -c \"import numpy as np; np.savez('data.npz', X=np.ones((3, 4)), Y=np.eye(2, 4))\"",
            "gaussdistill evaluate data.npz --rank 1",
            'gaussdistill evaluate data.json --kind predictive --json   # {"X": [[...], ...], "Y": [[...], ...]}',
            "",
            "gaussdistill evaluate sklearn_data.npz --samples-as-rows   # X n×d, Y n×k (or a length-n y)",
            "",
            "X is d×n and Y is k×n: columns are samples; --samples-as-rows reads X n×d and Y n×k.",
            c.JSON_NOTE,
        ],
    )
    p.add_argument("input", help="file with arrays X (d×n) and Y (k×n): .npz, or JSON of nested lists")
    p.add_argument(
        "--samples-as-rows",
        action="store_true",
        help="X is n×d and Y is n×k or length n (scikit-learn, pandas), not columns as samples",
    )
    c.add_model_options(p)
    return p


def _json_float(path):
    """JSON number hooks: every number must be a finite float64 (no NaN, no Infinity)."""

    def number(text):
        value = float(text)
        if not math.isfinite(value):
            raise c.CLIError(
                f"input file {path!r} holds the number {_short(text)}, beyond float64's "
                f"range (|x| < 1.8e308); rescale the data"
            )
        return value

    def constant(text):
        raise c.CLIError(f"input file {path!r} holds {text}, which is not a number; X and Y must hold finite numbers")

    return number, constant


def _short(text):
    return text if len(text) <= 24 else f"{text[:12]}…({len(text)} characters)"


def load_arrays(path):
    """Arrays X (d×n) and Y (k×n) from an .npz file or a JSON object of nested lists."""
    if path.endswith(".npz") and os.path.isfile(path) and not zipfile.is_zipfile(path):
        raise c.CLIError(
            f"input file {path!r} is not a valid .npz archive (not a zip file); "
            f"write one with numpy.savez(path, X=X, Y=Y)"
        )
    number, constant = _json_float(path)
    try:
        if path.endswith(".npz"):
            with np.load(path) as data:
                return {key: data[key] for key in data.files}
        with open(path) as fh:
            raw = json.load(fh, parse_float=number, parse_int=number, parse_constant=constant)
    except FileNotFoundError:
        raise c.CLIError(f"input file {path!r} does not exist") from None
    except c.CLIError:
        raise
    except (OSError, ValueError) as exc:
        raise c.CLIError(f"input file {path!r} is not a valid .npz or JSON file ({exc})") from None
    if not isinstance(raw, dict):
        raise c.CLIError(f"input file {path!r} must hold a JSON object with keys 'X' and 'Y'")
    return raw


def run(args, out) -> int:
    arrays = load_arrays(args.input)
    missing = [key for key in ("X", "Y") if key not in arrays]
    if missing:
        raise c.CLIError(
            f"input file {args.input!r} lacks {', '.join(missing)}: it needs arrays "
            f"'X' (d×n, columns are samples) and 'Y' (k×n)"
        )
    X, Y = arrays["X"], arrays["Y"]
    if args.samples_as_rows:
        with c.flag_names({"X_rows": "X (--samples-as-rows)", "Y_rows": "Y (--samples-as-rows)"}):
            X, Y = gd.from_samples_as_rows(X, Y)
    teacher, student, soft_noise = c.build_kernels(X, Y, args)
    rows = c.decomposition_rows(student, teacher, teacher.design, soft_noise, args)
    d, n = teacher.design.shape
    header = {"input": args.input, "k": teacher.shape[0], "d": d, "n": n, **c.model_header(args, soft_noise)}
    c.print_rows(rows, header, args.json, out)
    return 0
