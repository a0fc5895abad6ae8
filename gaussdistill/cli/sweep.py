"""``gaussdistill sweep``: one setting over a grid of parameter values → a table and figures.

Thin on purpose: the work is :func:`gaussdistill.sweep` on the setting's
:class:`gaussdistill.CaseStudy` (in-process, or on a dask cluster with ``--scheduler``);
the files are written by :mod:`gaussdistill.report.sweeps`.
"""
from __future__ import annotations

import os

import numpy as np

from . import _common as c

NAME = "sweep"


def add_parser(subparsers):
    p = c.subcommand_parser(subparsers, NAME, "run one setting over a grid of parameters (table and figures)", [
        "gaussdistill sweep --grid student_lam=0.01,0.1,1,10",
        "gaussdistill sweep --grid rank=0,1,2,3 --grid student_lam=0.1,1 --out rank_lam/",
        "gaussdistill sweep my_setting.toml --grid-file grid.toml --format parquet",
        "gaussdistill sweep --grid soft_noise=0.25,0.5,1 --scheduler tcp://10.0.0.5:8786",
        "",
        "A grid file (.toml or .json) maps parameters to lists of values, e.g.",
        "  rank = [0, 1, 2]",
        "  student_lam = [0.01, 0.1, 1.0]",
        "Grid parameters: noise soft_noise teacher_lam student_lam teacher_temperature",
        "student_temperature rank student draws shrinkage (the data k, d, n, seed come from",
        "the setting: sweep n with 'gaussdistill report' or one run per --set n=...).",
        "One parameter: figures of the bounds and the simulated divergences against it;",
        "two: heatmaps of the simulated gen_S and K^Y with the optimum marked.",
    ])
    p.add_argument("--grid", action="append", default=[], metavar="PARAM=V1,V2,...",
                   help="values of one parameter (repeatable; the grid is their product)")
    p.add_argument("--grid-file", default=None, metavar="FILE",
                   help="a .toml or .json file mapping parameters to lists of values")
    c.add_setting_arguments(p, "change one key of the base setting (repeatable), e.g. --set n=50")
    p.add_argument("--replicates", type=c.int_at_least(2, "an integer >= 2"), default=None,
                   help="Monte Carlo replicates per grid point (default: the setting's, 400)")
    p.add_argument("--seed", type=c.nonneg_int, default=None, help="random seed (default: the setting's, 0)")
    p.add_argument("--out", default="gaussdistill-sweep", metavar="DIR",
                   help="folder to write (default ./gaussdistill-sweep; a previous one is replaced)")
    p.add_argument("--format", action="append", choices=("csv", "json", "parquet"), default=None,
                   help="table format (repeatable; default csv and json)")
    p.add_argument("--no-figures", action="store_true", help="write the table only")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run on a dask cluster, e.g. tcp://10.0.0.5:8786 (results identical bit for bit)")
    c.add_progress_argument(p, "progress bar on stderr (default: auto, only on a terminal)")
    return p


def _grid(args):
    from ..report.setting import load_grid, parse_assignments

    grid = load_grid(args.grid_file) if args.grid_file else {}
    for key, values in parse_assignments(args.grid, "--grid").items():
        if not values:
            raise c.CLIError(f"--grid {key}=: give at least one value")
        grid[key] = values
    if not grid:
        raise c.CLIError("no grid: give --grid PARAM=V1,V2,... (repeatable) or --grid-file FILE")
    return grid


#: Seconds ``--scheduler`` waits for a TCP connection before giving up (a refused port fails at once).
PROBE_TIMEOUT = 5.0
#: dask address schemes reachable from another process (``inproc://`` lives inside one process).
_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")


def check_scheduler(address: str, timeout: float = PROBE_TIMEOUT) -> None:
    """Fail fast, with one line naming ``--scheduler``, when no dask scheduler can be at ``address``.

    The address is parsed (``[scheme://]host[:port]``, port 8786 by default) and, for the TCP-based
    schemes, one connection is opened with a ``timeout`` in seconds: a refused port or an
    unreachable host ends the command in seconds (dask's own client waits 20 s, and 40 s more
    on exit for an address it cannot parse).
    """
    import socket
    from urllib.parse import urlsplit

    text = address.strip()
    if not text:
        raise c.CLIError("--scheduler '': give a dask scheduler address such as tcp://10.0.0.5:8786")
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "tcp", text
    scheme = scheme.lower()
    if scheme not in _SCHEMES:
        raise c.CLIError(f"--scheduler {address!r}: the scheme {scheme + '://'!r} cannot reach a scheduler in "
                         f"another process; use tcp://HOST:PORT (or {', '.join(_SCHEMES[1:])})")
    try:
        parts = urlsplit("//" + rest)
        host, port = parts.hostname, parts.port or 8786
    except ValueError as exc:  # a bad port, an unclosed [IPv6 bracket
        raise c.CLIError(f"--scheduler {address!r} is not a valid HOST:PORT address ({exc}); "
                         f"e.g. tcp://10.0.0.5:8786") from None
    if not host or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise c.CLIError(f"--scheduler {address!r} is not a valid HOST:PORT address; e.g. tcp://10.0.0.5:8786")
    if scheme == "ucx":  # no plain TCP probe for UCX: dask's client reports it
        return
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        why = exc.strerror or type(exc).__name__.replace("Error", " error").strip()
        raise c.CLIError(f"--scheduler {address!r}: no dask scheduler answers at {host}:{port} ({why}, "
                         f"waited at most {timeout:g} s); start one with `dask scheduler` or leave out "
                         f"--scheduler to run in-process") from None


def run(args, out) -> int:
    import gaussdistill as gd

    from ..report import sweeps
    from ..report.setting import apply_overrides
    from ..report.writer import folder_files, resolve_setting, save_figure, staged_folder
    from ..simulation.sweep import expand_grid, parameter_names

    progress = c.PROGRESS[args.progress]
    setting = apply_overrides(resolve_setting(args.setting), args.set)
    changes = {key: getattr(args, key) for key in ("replicates", "seed") if getattr(args, key) is not None}
    setting = setting.replace(**changes) if changes else setting
    grid = _grid(args)
    formats = tuple(dict.fromkeys(args.format or ("csv", "json")))
    if "parquet" in formats:
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise c.CLIError("--format parquet needs pyarrow: pip install pyarrow") from None
    base = setting.case_study()
    names = [n for n in parameter_names(base) if n not in ("X", "W_star", "design_cov")]
    source = "--grid-file" if args.grid_file and not args.grid else "--grid"
    try:
        points = expand_grid(grid, names)
    except c.GaussDistillError as exc:
        raise c.CLIError(f"{source}: {exc}") from None
    if args.scheduler is not None:
        check_scheduler(args.scheduler)
    for point in points:  # every grid point checked before anything runs
        try:
            base.replace(**point)
        except c.GaussDistillError as exc:
            where = ", ".join(f"{k}={v}" for k, v in point.items())
            raise c.CLIError(f"{source} ({where}): {exc}") from None
    with staged_folder(args.out, flag="--out") as tmp:
        try:
            with np.errstate(under="ignore"):  # exp underflow to 0 in the CGF tails is exact enough
                table = gd.sweep(grid, base=base, replicates=setting.replicates, seed=setting.seed,
                                 client=args.scheduler, progress=progress)
        except c.GaussDistillError as exc:
            message = str(exc)
            if message.startswith("client: "):  # "client: could not connect ..."
                raise c.CLIError("--scheduler: " + message[len("client: "):]) from None
            if message.startswith("client"):  # "client='x' is not ...": a colon may sit in the address
                raise c.CLIError("--scheduler" + message[len("client"):].replace("=", " ", 1)) from None
            raise
        sweeps.write_sweep(table, tmp, list(grid), formats, save=None if args.no_figures else save_figure)
        with open(os.path.join(tmp, "setting.json"), "w") as fh:
            import json

            json.dump({"setting": setting.to_dict(), "grid": grid}, fh, indent=2)
            fh.write("\n")
        files = folder_files(tmp)
    folder = os.fspath(args.out).rstrip("/") or "/"
    failed = table.attrs.get("failed", [])
    gen = table[table["quantity"] == "gen_S"]
    out.write(f"gaussdistill sweep: {len(points)} settings x {setting.replicates} replicates "
              f"(seed {setting.seed}) of {base!r}\n")
    if len(gen):
        params = list(grid)
        best = gen.loc[gen["value"].astype(float).idxmin()]
        where = ", ".join(f"{p}={best[p]}" for p in params)
        out.write(f"smallest simulated gen_S = {float(best['value']):.4g} (s.e. "
                  f"{float(best['stderr']):.2g}) at {where}\n")
    if failed:
        out.write(f"{len(failed)} settings failed (rows with an 'error' in the table)\n")
    out.write(f"wrote {folder}/ ({len(files)} files):\n")
    for name in files:
        out.write(f"  {name}\n")
    return 0
