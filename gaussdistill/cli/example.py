"""``gaussdistill example``: the decomposition for a built-in teacher/student pair."""

from __future__ import annotations

from ..linear_gaussian.examples import example_data
from . import _common as c

NAME = "example"


def add_parser(subparsers):
    p = c.subcommand_parser(
        subparsers,
        NAME,
        "decompose the divergences of a built-in example pair",
        [
            "gaussdistill example",
            "gaussdistill example --n 50 --rank 1 --kind weight --json",
            "gaussdistill example --noise 0.2 --soft-noise 0.4 --precision 30",
            "",
            c.JSON_NOTE,
        ],
    )
    p.add_argument("--k", type=c.positive_int, default=6, help="output dimension k (default 6)")
    p.add_argument("--d", type=c.positive_int, default=8, help="input dimension d (default 8)")
    p.add_argument("--n", type=c.positive_int, default=200, help="sample size n (default 200)")
    p.add_argument("--seed", type=c.nonneg_int, default=0, help="random seed (default 0)")
    c.add_model_options(p)
    return p


def run(args, out) -> int:
    with c.flag_names(c.TEACHER_FLAGS):
        X, Y, _ = example_data(args.k, args.d, args.n, args.noise, args.seed)
    teacher, student, soft_noise = c.build_kernels(X, Y, args)
    rows = c.decomposition_rows(student, teacher, X, soft_noise, args)
    header = {"k": args.k, "d": args.d, "n": args.n, **c.model_header(args, soft_noise), "seed": args.seed}
    c.print_rows(rows, header, args.json, out)
    return 0
