"""``gaussdistill derive``: closed forms of the decomposition in the aligned spectral model.

Thin on purpose: what is printed comes from :mod:`gaussdistill.symbolic`.
"""

from __future__ import annotations

import gaussdistill as gd

from . import _common as c

NAME = "derive"


def add_parser(subparsers):
    p = c.subcommand_parser(
        subparsers,
        NAME,
        "derive the closed-form decomposition in the aligned spectral model (sympy)",
        [
            "gaussdistill derive --kind predictive --d 2 --rank 1",
            "gaussdistill derive --kind convexity --d 3 --rank 1 --pretty",
            "gaussdistill derive --kind weight --latex",
            "gaussdistill derive --kind convexity --noiseless --steps",
            "gaussdistill derive --kind weight --out kd.tex   # kd.tex and kd_standalone.tex",
        ],
    )
    p.add_argument("--kind", action="append", choices=gd.KINDS, help="divergence kind (repeatable; default all)")
    p.add_argument(
        "--direction",
        action="append",
        choices=gd.DIRECTIONS,
        help="KL direction (repeatable; default student||teacher)",
    )
    p.add_argument("--d", type=c.positive_int, default=2, help="number of modes d (default 2)")
    p.add_argument("--rank", type=c.nonneg_int, default=None, help="student rank r (default: full rank)")
    p.add_argument(
        "--student",
        choices=("population", "shrinkage", "sampled"),
        default="population",
        help="student model (default population)",
    )
    p.add_argument(
        "--noiseless",
        action="store_true",
        help="noiseless labels Y = W⋆X instead of the expectation over the label noise",
    )
    p.add_argument("--latex", action="store_true", help="print LaTeX (an align of the decomposition)")
    p.add_argument("--pretty", action="store_true", help="draw the per-mode formulas in 2-D (unicode)")
    p.add_argument("--concrete", action="store_true",
                   help="also print each part written out for the concrete d (s_1..s_d, w_1..w_d)")
    p.add_argument("--steps", action="store_true", help="print the recorded derivation steps")
    p.add_argument("--out", default=None, help="write a .tex snippet here and a standalone document beside it")
    return p


def run(args, out) -> int:
    from .. import symbolic

    kinds = args.kind or gd.KINDS
    directions = args.direction or gd.DIRECTIONS[:1]
    with c.flag_names({"d": "--d", "rank": "--rank"}):
        decs = [
            symbolic.aligned_decomposition(
                kind, direction, expectation=not args.noiseless, student=args.student, d=args.d, rank=args.rank
            )
            for kind in kinds
            for direction in directions
        ]
    if args.out:
        with c.flag_names({"path": "--out"}):  # the library's argument is `path`
            written = symbolic.export_latex(decs, args.out)
        for path in written:
            out.write(f"wrote {path}\n")
        return 0
    for dec in decs:
        out.write(f"% {dec!r}\n")
        if args.steps:
            out.write(dec.derivation() + "\n")
        if args.latex:
            out.write(dec.latex() + "\n\n")
            continue
        out.write(symbolic.describe(dec, pretty=args.pretty) + "\n")
        if args.concrete:
            out.write(f"written out for d = {args.d}:\n")
            for part in ("variance", "bias", "rank", "total"):
                out.write(f"{part} = {symbolic.paper_str(getattr(dec, part))}\n")
        out.write("\n")
    return 0
