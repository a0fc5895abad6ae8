"""``gaussdistill simulate``: Monte Carlo of one setting and the check of every bound.

Thin on purpose: the work is :func:`gaussdistill.simulate` on the setting's
:class:`gaussdistill.CaseStudy`; this prints its table and writes it when asked.
"""
from __future__ import annotations

import os

import numpy as np

from . import _common as c

NAME = "simulate"

#: Columns printed (the written files keep every column of the simulator's table).
SHOWN = ("bound", "divergence", "ingredients", "value", "observed", "stderr", "slack", "valid", "holds")


def add_parser(subparsers):
    p = c.subcommand_parser(subparsers, NAME, "simulate one setting and check every bound on the student's gap", [
        "gaussdistill simulate                                # the built-in setting",
        "gaussdistill simulate my_setting.toml --replicates 2000 --seed 1",
        "gaussdistill simulate --set rank=6 --set student=sampled --out bounds.csv",
        "gaussdistill simulate --json",
        "",
        "Settings files are those of 'gaussdistill report' (see its --help).",
    ])
    c.add_setting_arguments(p, "change one setting key (repeatable), e.g. --set n=50")
    p.add_argument("--replicates", type=c.int_at_least(2, "an integer >= 2"), default=None,
                   help="Monte Carlo replicates (default: the setting's, 400)")
    p.add_argument("--seed", type=c.nonneg_int, default=None, help="random seed (default: the setting's, 0)")
    p.add_argument("--out", default=None, metavar="FILE",
                   help="also write the full table: .csv, .json or .parquet")
    p.add_argument("--all", action="store_true",
                   help="print the bounds from estimated ingredients too (default: exact ingredients)")
    p.add_argument("--json", action="store_true", help="print the table as JSON records")
    c.add_progress_argument(p, "progress bar on stderr (default: auto, only on a terminal)")
    return p


def _setting(args):
    from ..report.setting import apply_overrides
    from ..report.writer import resolve_setting

    setting = apply_overrides(resolve_setting(args.setting), args.set)
    changes = {key: getattr(args, key) for key in ("replicates", "seed") if getattr(args, key) is not None}
    return setting.replace(**changes) if changes else setting


def check_table_path(path, flag="--out") -> str:
    """The table format of ``path`` (csv, json or parquet, from its extension), or a CLIError
    naming ``flag`` when the extension is unknown or the folder does not exist."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in (".csv", ".json", ".parquet"):
        raise c.CLIError(f"{flag} {path!r}: the file must end in .csv, .json or .parquet")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise c.CLIError(f"{flag} {path!r}: the folder {folder!r} does not exist")
    return ext[1:]


def write_table(table, path, flag="--out"):
    """Write ``table`` to ``path`` by its extension (.csv, .json records, .parquet)."""
    from ..report.tables import write_data

    ext = check_table_path(path, flag)
    tmp = path + ".part"
    try:
        write_data(table, tmp, ext)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def run(args, out) -> int:
    from ..report.tables import records
    from ..simulation import simulate

    progress = c.PROGRESS[args.progress]
    setting = _setting(args)
    if args.out:  # fail on a bad --out before the work
        check_table_path(args.out)
    cs = setting.case_study()
    with np.errstate(under="ignore"):  # exp underflow to 0 in the CGF tails is exact enough
        table = simulate(cs, replicates=setting.replicates, seed=setting.seed, progress=progress)
    if args.out:
        write_table(table, args.out)
    shown = table if args.all else table[table["ingredients"] != "estimated"]
    if shown.empty:
        shown = table
    if args.json:
        c.dump_json({"setting": setting.to_dict(), "case_study": repr(cs),
                     "bounds": records(shown.reset_index(drop=True))}, out)
        return 0
    valid = table[table["valid"].astype(bool)]
    out.write(f"gaussdistill simulate: {cs!r}\n{setting.replicates} replicates, seed {setting.seed}\n\n")
    columns = [col for col in SHOWN if col in shown.columns]
    cells = [[_fmt(v) for v in row] for row in shown[columns].itertuples(index=False)]
    widths = [max(len(x) for x in col) for col in zip(columns, *cells)]
    out.write("  ".join(h.ljust(w) for h, w in zip(columns, widths)).rstrip() + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for line in cells:
        out.write("  ".join(x.ljust(w) for x, w in zip(line, widths)).rstrip() + "\n")
    first = shown.iloc[0]
    out.write(f"\nsimulated gen_S = {float(first['observed']):.6g} (standard error "
              f"{float(first['stderr']):.2g}); {int(valid['holds'].sum())} of {len(valid)} valid bounds "
              f"held within 4 standard errors; 'valid' is False where an assumption failed "
              f"(see the table's failed_assumptions)\n")
    if args.out:
        out.write(f"wrote {args.out}\n")
    return 0


def _fmt(value):
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "yes" if value else "no"
    if isinstance(value, float) or type(value).__name__.startswith("float"):
        return f"{float(value):.4g}"
    return str(value)
