"""Run the gaussdistill benchmark suite and print a table of ratios.

Usage::

    python benchmarks/run.py              # every benchmark module
    python benchmarks/run.py core scale   # only bench_core.py and bench_scale.py
    python benchmarks/run.py --markdown   # table as Markdown (for the README)

Every ``benchmarks/bench_*.py`` module defines ``benchmarks()``, returning a list of
rows (dicts) with the keys

    name      what is measured
    ours_s    seconds taken by gaussdistill
    base_s    seconds taken by the baseline, measured in the same run
    baseline  what the baseline is
    ratio     ours_s / base_s (or base_s / ours_s for speed-ups; see `better`)
    target    the target stated in the issue, as text
    ok        bool: whether the target is met
    extra     optional free text (peak memory, sizes, ...)

Targets are ratios against a baseline timed in the same run, never absolute times,
so the table means the same thing on another machine. To add a benchmark, add a
module ``bench_<topic>.py`` with a ``benchmarks()`` function.
"""
from __future__ import annotations

import argparse
import importlib.util
import platform
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def best_time(fn, repeat=5, number=1):
    """Best wall time of ``fn()`` over ``repeat`` rounds of ``number`` calls (seconds per call)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def interleaved(fns: dict, repeat: int = 5, warmup: bool = False) -> dict:
    """Median wall time of each function, the functions run in turn ``repeat`` times.

    ``warmup``: run each function once before timing (first-call imports and caches).
    """
    if warmup:
        for fn in fns.values():
            fn()
    times: dict = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: float(np.median(t)) for name, t in times.items()}


def interleaved_pair(ours, base, repeat: int = 5, warmup: bool = False) -> tuple[float, float]:
    """Median seconds of ``ours()`` and ``base()`` timed alternately ``repeat`` times each."""
    t = interleaved({"ours": ours, "base": base}, repeat, warmup)
    return t["ours"], t["base"]


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(HERE))
    spec.loader.exec_module(module)
    return module


def machine_description() -> str:
    import os

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"numpy {np.__version__}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help="topics to run (bench_<topic>.py); default all")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args(argv)
    modules = sorted(HERE.glob("bench_*.py"))
    if args.only:
        modules = [m for m in modules if m.stem[len("bench_"):] in args.only]
    rows = []
    for path in modules:
        print(f"# running {path.name} ...", file=sys.stderr, flush=True)
        rows.extend(_load(path).benchmarks())
    print(f"machine: {machine_description()}")
    header = ["benchmark", "ours [s]", "baseline", "baseline [s]", "ratio", "target", "ok", "extra"]
    table = [[r["name"], f"{r['ours_s']:.4g}", r["baseline"], f"{r['base_s']:.4g}",
              f"{r['ratio']:.3g}", r["target"], "yes" if r["ok"] else "NO", r.get("extra", "")]
             for r in rows]
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for line in table:
            print("| " + " | ".join(line) + " |")
    else:
        widths = [max(len(str(x)) for x in col) for col in zip(header, *table)]
        for line in [header] + table:
            print("  ".join(str(x).ljust(w) for x, w in zip(line, widths)))
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
