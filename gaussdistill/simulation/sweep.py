r"""Sweeps: run a setting over a grid of parameter values, in-process or on a dask cluster.

``sweep(grid, base, replicates, seed, client)`` runs ``base.replace(**overrides).run(replicates,
seed=child)`` for every setting of the grid and stacks the long tables into one pandas
DataFrame. A *sweepable setting* (a :class:`gaussdistill.CaseStudy`, a
:class:`gaussdistill.LogisticSetting`, or any object of yours) has

* ``replace(**overrides)`` returning a new setting, and its parameter names as dataclass
  fields (or a ``parameter_names`` attribute), checked before anything runs;
* ``run(replicates, seed)`` returning a long pandas DataFrame (``quantity``, ``value``,
  ``stderr``, ...), where ``seed`` is a :class:`numpy.random.SeedSequence`.

Reproducibility: task i (grid order) gets child i of ``SeedSequence(seed).spawn(n_tasks)`` and
runs with one BLAS thread, so the table is identical bit for bit whatever the executor
(in-process, a dask ``Client``, a scheduler address) and the number of workers.

dask is an optional extra (``pip install "gaussdistill[dask]"``), imported only when a client
is passed.
"""
from __future__ import annotations

import itertools
import math
import numbers
import re
import sys
import traceback
import uuid
import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from ..errors import GaussDistillError, GaussDistillWarning

#: Columns every sweep table starts with / ends with (besides the grid's parameters).
SETTING_COLUMN, ERROR_COLUMN = "setting", "error"
#: What a scheduler address looks like: ``protocol://host[:port]`` or ``host:port``.
_ADDRESS = re.compile(r"^(?:[a-z][a-z0-9+.-]*://\S+|[\w.\-\[\]:]+:\d+)$", re.IGNORECASE)
#: How long ``client="<address>"`` waits for the scheduler.
CONNECT_TIMEOUT = "20s"


class SweepWarning(GaussDistillWarning):
    """Some settings of a sweep failed; the table keeps them as rows with an ``error``."""


def parameter_names(base) -> tuple[str, ...]:
    """The names a grid may override on ``base`` (dataclass fields, or ``base.parameter_names``)."""
    import dataclasses

    names = getattr(base, "parameter_names", None)
    if names is not None:
        names = names() if callable(names) else names
        return tuple(str(n) for n in names)
    if dataclasses.is_dataclass(base) and not isinstance(base, type):
        return tuple(f.name for f in dataclasses.fields(base) if not f.name.startswith("_"))
    raise GaussDistillError(
        f"base must be a sweepable setting (a gaussdistill.CaseStudy, a LogisticSetting, or a dataclass "
        f"with replace() and run()); got {type(base).__name__}")


def expand_grid(grid, names) -> list[dict]:
    """The grid's settings as a list of override dicts, in a fixed order.

    A mapping ``{name: [values, ...]}`` is the Cartesian product in the mapping's key order
    (the last key varies fastest, as :func:`itertools.product`); a sequence of mappings is
    taken as the explicit list of settings.
    """
    if isinstance(grid, Mapping):
        if not grid:
            raise GaussDistillError("grid has no settings; give at least one parameter with at least one value")
        for key, values in grid.items():
            if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray, range)):
                raise GaussDistillError(
                    f"grid[{key!r}] must be a list of values to try; got {type(values).__name__} {values!r:.60}"
                    f" (write [{values!r:.40}] for a single value)")
            if len(values) == 0:
                raise GaussDistillError(f"grid[{key!r}] is empty; give at least one value")
        keys = list(grid)
        settings = [dict(zip(keys, combo)) for combo in itertools.product(*(list(grid[k]) for k in keys))]
    elif (isinstance(grid, Sequence) and not isinstance(grid, (str, bytes))
          and all(isinstance(g, Mapping) for g in grid)):
        settings = [dict(g) for g in grid]
    else:
        raise GaussDistillError(
            f"grid must be a mapping {{parameter: [values]}} or a list of {{parameter: value}} mappings; "
            f"got {type(grid).__name__}")
    if not settings:
        raise GaussDistillError("grid has no settings; give at least one parameter with at least one value")
    valid = set(names)
    for overrides in settings:
        for key in overrides:
            if not isinstance(key, str):
                raise GaussDistillError(f"grid parameter names must be strings; got {key!r}")
            if key not in valid:
                raise GaussDistillError(f"unknown grid parameter {key!r}; valid: {sorted(valid)}")
    return settings


def _check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)) or value < minimum:
        raise GaussDistillError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def _seed_children(seed, n: int) -> list:
    if seed is None:
        root = np.random.SeedSequence()
    elif isinstance(seed, np.random.SeedSequence):
        root = seed
    else:
        root = np.random.SeedSequence(_check_int("seed", seed, 0))
    # The children root.spawn(n) would give to a fresh root, without advancing the caller's
    # SeedSequence (spawn() mutates it: the same object passed twice gave different tables).
    return [np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, i), pool_size=root.pool_size)
            for i in range(n)]


def run_task(base, overrides: dict, replicates: int, seed, index: int):
    """One setting of a sweep (a top-level function, so dask workers can import it).

    Returns ``(index, table, error)``: the setting's long DataFrame and ``None``, or ``None``
    and ``(message, traceback)`` if it failed: the message is ``"ExceptionType: text"``
    (the same on every executor), the traceback the formatted stack.
    """
    import pandas as pd

    from .._numerics.threads import single_blas_thread

    try:
        with single_blas_thread():
            table = base.replace(**overrides).run(replicates, seed=seed)
        if not isinstance(table, pd.DataFrame):
            raise TypeError(f"run() returned {type(table).__name__}, expected a pandas DataFrame")
        return index, table, None
    except Exception as exc:   # noqa: BLE001  (a failed task is reported, the sweep goes on)
        return index, None, (f"{type(exc).__name__}: {exc}", "".join(traceback.format_exception(exc)))


def _progress(progress, total):
    from tqdm.auto import tqdm

    disable = (not sys.stderr.isatty()) if progress is None else not progress
    return tqdm(total=total, desc="sweep", unit="setting", disable=disable)


def _client(client):
    """(dask Client, whether we opened it) from a Client or a scheduler address."""
    try:
        from dask.distributed import Client
    except ImportError:   # pragma: no cover - depends on the environment
        raise GaussDistillError(
            "client= needs dask.distributed, an optional extra: pip install \"gaussdistill[dask]\"") from None
    if isinstance(client, Client):
        return client, False
    if isinstance(client, str):
        if not _ADDRESS.match(client.strip()):
            raise GaussDistillError(
                f"client={client!r} is not a dask scheduler address; pass an address such as "
                "'tcp://10.0.0.5:8786' (or 'host:8786'), a dask.distributed.Client, or None (in-process)")
        try:
            return Client(client, set_as_default=False, timeout=CONNECT_TIMEOUT), True
        except Exception as exc:   # noqa: BLE001
            raise GaussDistillError(f"client: could not connect to the dask scheduler at {client!r} ({exc})") from None
    raise GaussDistillError(
        f"client must be None (in-process), a dask.distributed.Client or a scheduler address string; "
        f"got {type(client).__name__}")


def _run_local(tasks, bar):
    results = {}
    for task in tasks:
        index, table, error = run_task(*task)
        results[index] = (table, error)
        bar.update()
    return results


def _run_dask(client, tasks, bar):
    from dask.distributed import as_completed

    base = client.scatter(tasks[0][0], broadcast=False, hash=False)
    tag = uuid.uuid4().hex
    futures = {client.submit(run_task, base, *task[1:], pure=False, key=f"gaussdistill-sweep-{tag}-{task[4]}"): task[4]
               for task in tasks}
    results = {}
    for future in as_completed(list(futures), loop=client.loop):
        index = futures[future]
        try:
            _, table, error = future.result()
        except Exception as exc:   # noqa: BLE001  (a lost worker: reported, the rest kept)
            table, error = None, (f"{type(exc).__name__}: {exc}", "".join(traceback.format_exception(exc)))
        results[index] = (table, error)
        bar.update()
    return results


def sweep(grid, base, replicates: int = 200, seed=0, client=None, *, progress=None):
    r"""Run ``base`` over a grid of parameter values; one pandas DataFrame of every result.

    For each setting s of the grid (in grid order, index i):

    .. math::
        \text{table}_s = \texttt{base.replace(**s).run(replicates, seed=}c_i\texttt{)},\qquad
        (c_0, \dots, c_{S-1}) = \texttt{SeedSequence(seed).spawn(}S\texttt{)},

    run with one BLAS thread (threadpoolctl), then stacked with the columns
    ``setting`` (i), one column per grid parameter, the setting's own columns, and ``error``
    (``""``, or the failure message). The numbers do not depend on the executor.

    Parameters
    ----------
    grid : mapping ``{parameter: [values]}`` (Cartesian product in key order, last key
        fastest) or a list of ``{parameter: value}`` mappings. Parameter names must be
        fields of ``base`` (checked before running: an unknown name is a GaussDistillError).
    base : a sweepable setting (``gd.CaseStudy``, ``gd.LogisticSetting``, see the module doc).
    replicates : passed to ``run`` (integer >= 1).
    seed : non-negative integer, a SeedSequence, or None (fresh entropy; stored in
        ``table.attrs["seed_entropy"]`` so the run can be repeated).
    client : None (in-process, serial), a ``dask.distributed.Client``, or a scheduler
        address string such as ``"tcp://10.0.0.5:8786"`` (connected, then closed).
    progress : None (a tqdm bar on a terminal only), True or False.

    Returns
    -------
    pandas.DataFrame, one row per setting and quantity. A failed setting (its ``replace`` or
    ``run`` raised) is one row with its parameters, ``quantity`` None, ``value`` NaN and the
    message in ``error``; a :class:`SweepWarning` lists the failed settings, and
    ``table.attrs["failed"]`` holds them (parameters, message, traceback). The other settings are kept.
    """
    import pandas as pd

    names = parameter_names(base)
    for method in ("replace", "run"):
        if not callable(getattr(base, method, None)):
            raise GaussDistillError(f"base must have a {method}() method (a sweepable setting); "
                                    f"{type(base).__name__} has none")
    settings = expand_grid(grid, names)
    replicates = _check_int("replicates", replicates, 1)
    if progress is not None and not isinstance(progress, (bool, np.bool_)):
        raise GaussDistillError(f"progress must be None, True or False; got {progress!r}")
    if seed is None:
        seed = np.random.SeedSequence()
    children = _seed_children(seed, len(settings))
    tasks = [(base, overrides, replicates, child, i) for i, (overrides, child) in enumerate(zip(settings, children))]
    opened = None
    if client is not None:
        client, ours = _client(client)
        opened = client if ours else None
    try:
        with _progress(progress, len(tasks)) as bar:
            results = _run_local(tasks, bar) if client is None else _run_dask(client, tasks, bar)
    finally:
        if opened is not None:
            opened.close()
    return _assemble(settings, results, seed, pd)


def _assemble(settings, results, seed, pd):
    params = list(dict.fromkeys(key for s in settings for key in s))
    frames, failed = [], []
    for i, overrides in enumerate(settings):
        table, error = results[i]
        if error is None:
            table = table.copy()
            for col in (SETTING_COLUMN, ERROR_COLUMN, *params):
                if col in table.columns:
                    table = table.rename(columns={col: f"{col}_run"})
        else:
            error, trace = error
            failed.append({**overrides, SETTING_COLUMN: i, ERROR_COLUMN: error, "traceback": trace})
            table = pd.DataFrame({"quantity": [None], "value": [math.nan], "stderr": [math.nan]})
        front = {SETTING_COLUMN: i, **{p: overrides.get(p) for p in params}}
        for pos, (col, value) in enumerate(front.items()):
            table.insert(pos, col, [value] * len(table))
        table[ERROR_COLUMN] = "" if error is None else error
        frames.append(table)
    out = pd.concat(frames, ignore_index=True, sort=False)
    out.attrs["failed"] = failed
    if isinstance(seed, np.random.SeedSequence):
        out.attrs["seed_entropy"] = seed.entropy
    if failed:
        lines = "; ".join(f"setting {f[SETTING_COLUMN]} " + ", ".join(f"{p}={f[p]!r}" for p in params if p in f)
                          + f": {f[ERROR_COLUMN]}" for f in failed[:10])
        more = f" (and {len(failed) - 10} more)" if len(failed) > 10 else ""
        warnings.warn(f"{len(failed)} of {len(settings)} sweep settings failed and are kept as rows with an "
                      f"'error': {lines}{more}", SweepWarning, stacklevel=3)
    return out


__all__ = ["sweep", "run_task", "expand_grid", "parameter_names", "SweepWarning"]
