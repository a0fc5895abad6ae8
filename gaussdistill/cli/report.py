"""``gaussdistill report``: a paper-ready folder (tables, closed forms, figures, report.tex/pdf).

Thin on purpose: the work is :func:`gaussdistill.report.write_report`.
"""
from __future__ import annotations

import json

import numpy as np

from . import _common as c

NAME = "report"


def add_parser(subparsers):
    p = c.subcommand_parser(subparsers, NAME, "write a paper-ready report folder for one setting", [
        "gaussdistill report                       # built-in setting -> ./gaussdistill-report/",
        "gaussdistill report my_setting.toml --out figs/",
        "gaussdistill report --set rank=1 --set student_lam=0.1 --out rank1/",
        "gaussdistill report --no-simulate --no-pdf   # tables, closed forms and trade-off figures only",
        "",
        "A settings file (.toml or .json) holds numbers and names only, e.g.",
        "  k = 6", "  d = 8", "  n = 200", "  rank = 2", "  noise = 0.5", "  soft_noise = 0.5",
        "  teacher_lam = 1.0", "  student_lam = 0.5", "  student = \"population\"", "  seed = 0",
        "(keys: k d n rank noise soft_noise teacher_lam student_lam teacher_temperature",
        " student_temperature student seed replicates n_grid). The folder is written in a",
        "temporary directory and moved into place: an error leaves nothing half-written.",
    ])
    c.add_setting_arguments(p, "change one setting key (repeatable), e.g. --set rank=1")
    p.add_argument("--out", default="gaussdistill-report", metavar="DIR",
                   help="folder to write (default ./gaussdistill-report; a previous report there "
                        "is replaced)")
    p.add_argument("--no-pdf", action="store_true", help="do not run pdflatex")
    p.add_argument("--no-simulate", action="store_true",
                   help="leave out the Monte Carlo bound checks (faster)")
    p.add_argument("--no-symbolic", action="store_true", help="leave out the closed forms (no sympy)")
    p.add_argument("--json", action="store_true", help="print the paths written as JSON")
    c.add_progress_argument(p, "progress bars on stderr (default: auto, only on a terminal)")
    return p


def run(args, out) -> int:
    from ..report import write_report
    from ..report.setting import apply_overrides
    from ..report.writer import resolve_setting

    progress = c.PROGRESS[args.progress]
    try:
        setting = apply_overrides(resolve_setting(args.setting), args.set)
        with np.errstate(under="ignore"):  # exp underflow to 0 in the CGF tails is exact enough
            result = write_report(setting, args.out, compile=not args.no_pdf, progress=progress,
                                  simulate=not args.no_simulate, symbolic=not args.no_symbolic)
    except c.GaussDistillError as exc:
        message = str(exc)
        if message.startswith("out: "):
            message = "--out: " + message[5:]
        raise c.CLIError(message) from None
    if args.json:
        json.dump(result.to_dict(), out, indent=2)
        out.write("\n")
    else:
        out.write(result.summary + "\n")
    return 0
