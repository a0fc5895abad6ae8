r"""A paper-ready report folder for one setting: ``write_report(setting, out)``.

The folder (default ``./gaussdistill-report/``) holds

* ``tables/decomposition.{csv,json,tex}`` — every divergence of the setting, both
  directions, split into variance + rank bottleneck + bias (docs/mathematics.md §2.3);
* ``equations/closed_forms.tex`` — the general-d closed forms of the aligned model
  (docs/mathematics.md §2.4), derived by :mod:`gaussdistill.symbolic`;
* ``figures/*.{png,pdf}`` — the parts against r, λ_S, τ and n; the bounds against the
  simulated gaps as n grows; the r × λ_S heatmap with its optimum;
* ``tables/bounds.{csv,json,tex}`` — the bound table of the simulator
  (:func:`gaussdistill.simulate`), and ``tables/sweeps.csv`` with the figures' numbers;
* ``report.tex`` (standalone) and ``report.pdf`` when ``pdflatex`` is installed;
* ``setting.json`` — the setting, to reproduce the folder bit for bit.

The folder is written in a temporary directory beside ``out`` and moved into place at
the end: a failure leaves nothing half-written.

Plotting functions live in :mod:`gaussdistill.report.plots` (``gd.plotting``).
"""
from __future__ import annotations

from .setting import DEFAULT_SETTING, KEYS, Setting, load_setting, setting_from_mapping
from .writer import ReportResult, write_report

__all__ = ["write_report", "ReportResult", "Setting", "DEFAULT_SETTING", "load_setting",
           "setting_from_mapping", "KEYS"]
