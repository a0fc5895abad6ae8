"""Command line: ``gaussdistill <subcommand>`` (also ``python -m gaussdistill``).

One module per subcommand; each exposes ``add_parser(subparsers)`` and
``run(args, out) -> int``. To add a subcommand, write ``cli/<name>.py`` and add its name to
:data:`SUBCOMMANDS`.

Errors in the input end with one line on stderr naming the option and what would be
valid, and exit status 2, never a traceback; numpy's RuntimeWarnings are collected and
never printed before an error line.
"""

from __future__ import annotations

import argparse
import importlib
import sys

import numpy as np

import gaussdistill as gd

from ._common import ArgumentParser, extreme_options, overflow_message, quiet_numpy, report_warnings

#: Subcommand modules of this package, in the order ``--help`` lists them.
SUBCOMMANDS = ("example", "evaluate", "derive", "report", "simulate", "sweep")


def _modules():
    return [importlib.import_module(f"{__name__}.{name}") for name in SUBCOMMANDS]


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="gaussdistill",
        description="Distillation divergences of the linear-Gaussian teacher/student model "
        "and their bias/variance/rank-bottleneck decomposition.",
        epilog="examples:\n  gaussdistill example\n  gaussdistill example --json\n"
        "  gaussdistill evaluate data.npz --rank 1\n  gaussdistill derive --kind predictive --latex\n"
        "\nRun 'gaussdistill <subcommand> --help' for each subcommand's options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"gaussdistill {gd.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{" + ",".join(SUBCOMMANDS) + "}")
    for module in _modules():
        module.add_parser(sub).set_defaults(run=module.run)
    return parser


def main(argv=None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    out, err = sys.stdout, sys.stderr
    try:
        with quiet_numpy() as caught:
            status = args.run(args, out)
    except BrokenPipeError:  # output piped into e.g. `head`: stop quietly
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:  # Ctrl-C: output folders and files are only moved into place when complete
        err.write("gaussdistill: interrupted; nothing half-written was left (folders and files are "
                  "moved into place only when complete)\n")
        return 130
    except MemoryError:
        return _fail("out of memory: the setting is too large for this machine; use smaller k, d, n "
                     "or fewer replicates", err)
    except gd.GaussDistillError as exc:
        message, extreme = str(exc), extreme_options(args)
        if extreme and ("overflow" in message or "underflow" in message):  # name the options far from 1
            message += f" (options far from 1: {extreme})"
        return _fail(message, err)
    except (ArithmeticError, np.linalg.LinAlgError) as exc:  # overflow, failed SVD: extreme inputs
        return _fail(overflow_message(args, exc), err)
    except OSError as exc:  # e.g. --out in a folder that does not exist
        return _fail(f"cannot write {exc.filename!r}: {exc.strerror}", err)
    report_warnings(caught, err)
    return status


def _fail(message, err) -> int:
    err.write("gaussdistill: error: " + " ".join(message.split()) + "\n")
    return 2


__all__ = ["SUBCOMMANDS", "build_parser", "main"]
