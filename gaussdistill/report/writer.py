r"""``write_report``: every table, equation and figure of one setting, in one folder.

See :mod:`gaussdistill.report` for the folder's contents. Everything is computed by the
library (no number is typed in here), from the setting's seed: the same setting writes
the same tables bit for bit.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field

import numpy as np

from ..errors import GaussDistillError
from . import document, plots, tables
from .setting import DEFAULT_SETTING, Setting, load_setting, setting_from_mapping

__all__ = ["write_report", "ReportResult", "resolve_setting", "MARKER", "staged_folder", "folder_files",
           "save_figure"]

#: Empty file that marks a folder as a gaussdistill report (only such a folder is replaced).
MARKER = ".gaussdistill-report"
#: Resolution of the PNG figures (a one-panel figure is 960 × 600 pixels).
DPI = 150
#: Size in inches of the three-panel figures (one panel per divergence).
PANELS_FIGSIZE = (13.0, 3.8)

_SYMBOLS = (("k", "$k$"), ("d", "$d$"), ("n", "$n$"), ("rank", "$r$"), ("noise", r"$\nu$"),
            ("tau", r"$\tau$"), ("teacher_lam", r"$\lambda_T$"), ("student_lam", r"$\lambda_S$"),
            ("teacher_temperature", "$t_T$"), ("student_temperature", "$t_S$"),
            ("student", "student"), ("seed", "seed"), ("replicates", "Monte Carlo replicates"))


@dataclass(frozen=True)
class ReportResult:
    """What :func:`write_report` wrote.

    Attributes
    ----------
    folder : the report folder.
    files : every file written, relative to ``folder``, sorted.
    pdf : path of ``report.pdf``, or None when no LaTeX engine was found (or it failed).
    compile_message : one line: how the PDF was made, or how to make it.
    summary : the text the command line prints.
    setting : the :class:`~gaussdistill.report.Setting` used.
    """

    folder: str
    files: tuple
    pdf: str | None
    compile_message: str
    summary: str
    setting: Setting = field(repr=False)

    def to_dict(self) -> dict:
        return {"folder": self.folder, "files": list(self.files), "pdf": self.pdf,
                "compile_message": self.compile_message, "setting": self.setting.to_dict()}

    def __str__(self) -> str:
        return self.summary


def resolve_setting(setting) -> Setting:
    """None → the default; a :class:`Setting`; a dict of keys; or a ``.toml``/``.json`` path."""
    if setting is None:
        return DEFAULT_SETTING
    if isinstance(setting, Setting):
        return setting
    if isinstance(setting, dict):
        return setting_from_mapping(setting)
    if isinstance(setting, (str, os.PathLike)):
        return load_setting(setting)
    raise GaussDistillError(f"setting must be None, a Setting, a dict or a path to a .toml/.json "
                            f"file; got {type(setting).__name__}")


def _prepare_out(out, flag="out") -> tuple[str, str]:
    out = os.path.abspath(os.fspath(out))
    parent = os.path.dirname(out)
    if not os.path.isdir(parent):
        raise GaussDistillError(f"{flag}: the folder {parent!r} does not exist")
    if os.path.lexists(out):
        if not os.path.isdir(out) or os.path.islink(out):
            raise GaussDistillError(f"{flag}: {out!r} exists and is not a folder")
        if os.listdir(out) and not os.path.exists(os.path.join(out, MARKER)):
            raise GaussDistillError(f"{flag}: {out!r} exists and is not a gaussdistill report folder "
                                    f"(it is replaced only if it holds a {MARKER} file); choose "
                                    f"another --out")
    return out, parent


@contextlib.contextmanager
def staged_folder(out, flag="out"):
    """Yield a temporary folder beside ``out``; on success move it to ``out``, else delete it.

    ``out`` may not exist, be empty, or be a previous gaussdistill output (marked by
    :data:`MARKER`), which is replaced; anything else is refused (nothing is deleted).
    """
    out, parent = _prepare_out(out, flag)
    tmp = tempfile.mkdtemp(prefix=".gaussdistill-report-", dir=parent)
    try:
        yield tmp
        open(os.path.join(tmp, MARKER), "w").close()
        _move_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def folder_files(folder) -> tuple:
    """Every file under ``folder`` (relative paths, sorted), the marker left out."""
    return tuple(sorted(os.path.relpath(os.path.join(root, f), folder)
                        for root, _, names in os.walk(folder) for f in names if f != MARKER))


def write_report(setting=None, out="gaussdistill-report", *, compile=True, progress=None,
                 simulate=True, symbolic=True) -> ReportResult:
    r"""Write the report folder for ``setting`` (default: the built-in setting) to ``out``.

    Parameters
    ----------
    setting : None, :class:`Setting`, dict, or path of a ``.toml``/``.json`` settings file.
    out : folder to write; replaced if it is a previous report, else it must not exist
        (or be empty).
    compile : run ``pdflatex`` on ``report.tex`` when it is installed.
    progress : show progress bars (None: only when stderr is a terminal).
    simulate, symbolic : include the Monte Carlo bounds / the closed forms (both default on).

    Returns
    -------
    ReportResult
        The paths written and the printed summary.

    The folder is assembled in a temporary directory next to ``out`` and renamed into
    place at the end, so an error leaves ``out`` as it was.
    """
    setting = resolve_setting(setting)
    shown = os.fspath(out).rstrip("/") or "/"
    out = os.path.abspath(os.fspath(out))
    if progress is None:
        progress = sys.stderr.isatty()
    with staged_folder(out) as tmp:
        sections, pieces = _build(setting, tmp, progress, simulate=simulate, symbolic=symbolic)
        tex = document.build_document(title="gaussdistill report", setting_rows=_setting_rows(setting),
                                      sections=sections)
        with open(os.path.join(tmp, "report.tex"), "w") as fh:
            fh.write(tex)
        result = (document.compile_pdf(tmp, final_folder=out) if compile else
                  document.CompileResult(None, f"not compiled: run `cd {out} && pdflatex report.tex`"))
        with open(os.path.join(tmp, "setting.json"), "w") as fh:
            json.dump(setting.to_dict(), fh, indent=2)
            fh.write("\n")
        files = folder_files(tmp)
    pdf = os.path.join(out, "report.pdf") if result.pdf else None
    summary = _summary(setting, shown, files, pieces, result.message.replace(out, shown))
    return ReportResult(out, files, pdf, result.message, summary, setting)


def _move_into_place(tmp, out):
    os.chmod(tmp, 0o755 & ~_umask())
    if os.path.lexists(out):
        old = tempfile.mkdtemp(prefix=".gaussdistill-report-old-", dir=os.path.dirname(out))
        os.rename(out, os.path.join(old, "previous"))
        os.rename(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(tmp, out)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _setting_rows(setting):
    values = setting.to_dict() | {"tau": setting.tau}
    return [(symbol, f"{values[key]:g}" if isinstance(values[key], float) else str(values[key]))
            for key, symbol in _SYMBOLS]


# --------------------------------------------------------------------------- the pieces
def sweep_grids(setting: Setting) -> dict:
    """The swept values of the trade-off figures, derived from the setting."""
    lam_center = max(setting.student_lam, setting.teacher_lam, 1e-3)
    return {
        "rank": list(range(0, min(setting.k, setting.d) + 1)),
        "student_lam": [float(v) for v in lam_center * np.geomspace(1e-3, 1e2, 11)],
        "soft_noise": [float(v) for v in setting.noise * np.geomspace(0.25, 4.0, 9)],
        "n": list(setting.n_grid),
    }


def save_figure(ax_or_fig, folder, stem):
    """Save the figure of ``ax_or_fig`` as ``folder/figures/stem.{png,pdf}`` (150 dpi); the paths."""
    fig = getattr(ax_or_fig, "figure", ax_or_fig)
    paths = []
    for ext in ("png", "pdf"):
        path = os.path.join(folder, "figures", f"{stem}.{ext}")
        fig.savefig(path, dpi=DPI, metadata={"Software": "gaussdistill"} if ext == "png" else
                    {"Creator": "gaussdistill", "CreationDate": None})
        paths.append(path)
        # The constrained layout is computed by the first save; keep it for the second
        # (the sizes are in inches, so the PDF gets the same layout at half the cost).
        fig.set_layout_engine("none")
    return paths


def _panels():
    from matplotlib.figure import Figure

    fig = Figure(figsize=PANELS_FIGSIZE, layout="constrained")
    return fig, fig.subplots(1, 3)


def _build(setting, tmp, progress, *, simulate, symbolic):
    import gaussdistill as gd

    for sub in ("tables", "figures", "equations"):
        os.makedirs(os.path.join(tmp, sub))
    pieces = {}
    steps = ["decomposition", "sweeps", "heatmap"] + (["closed forms"] if symbolic else []) + \
        (["bounds"] if simulate else [])
    bar = tables._progress(steps, "report", progress) if progress else steps
    sections = []
    for step in bar:
        if hasattr(bar, "set_postfix_str"):
            bar.set_postfix_str(step)
        if step == "decomposition":
            dec = tables.decomposition_table(setting)
            tables.write_table(dec, os.path.join(tmp, "tables"), "decomposition",
                               "Distillation divergences of the setting (one data draw), split "
                               "exactly into variance, rank bottleneck and bias (nats).",
                               columns=["kind", "direction", "variance", "rank", "bias", "total"])
            pieces["decomposition"] = dec
            sections.append(("Decomposition", [
                r"Each divergence of the setting's teacher/student pair, in both directions, "
                r"is the sum of its variance (covariance mismatch), rank-bottleneck (least "
                r"cost of any rank-$r$ student) and bias (avoidable misfit) parts.",
                r"\input{tables/decomposition.tex}"]))
        elif step == "sweeps":
            grids = sweep_grids(setting)
            frames, blocks = [], []
            for parameter, values in grids.items():
                frame = tables.decomposition_sweep(setting, parameter, values)
                frames.append(frame)
                fig, axes = _panels()
                for ax, kind in zip(axes, gd.KINDS):
                    plots.plot_decomposition(frame, ax=ax, kind=kind)
                save_figure(fig, tmp, f"decomposition_vs_{parameter}")
                symbol = plots.PARAMETER_LABELS[parameter]
                blocks.append(document.Figure(
                    f"figures/decomposition_vs_{parameter}.pdf",
                    f"Variance, rank bottleneck and bias of $K^Y$, $\\bar K$ and $K^W$ "
                    f"(student $\\|$ teacher) against the {symbol}; the other keys as in the setting.",
                    f"fig:decomposition-{parameter}".replace("_", "-")))
            import pandas as pd

            sweeps = pd.concat(frames, ignore_index=True)
            sweeps.to_csv(os.path.join(tmp, "tables", "sweeps.csv"), index=False)
            pieces["sweeps"] = sweeps
            sections.append(("Trade-offs", blocks))
        elif step == "heatmap":
            grids = sweep_grids(setting)
            lam = grids["student_lam"][::2]
            grid = tables.tradeoff_grid(setting, "rank", grids["rank"], "student_lam", lam)
            grid.to_csv(os.path.join(tmp, "tables", "tradeoff_rank_student_lam.csv"), index=False)
            save_figure(plots.plot_tradeoff(grid, x="rank", y="student_lam"), tmp,
                  "tradeoff_rank_student_lam")
            best = grid.loc[grid["value"].idxmin()]
            pieces["optimum"] = best
            sections[-1][1].append(document.Figure(
                "figures/tradeoff_rank_student_lam.pdf",
                r"$K^Y$ (student $\|$ teacher) on the grid of the student rank $r$ and ridge "
                rf"$\lambda_S$; the star marks the smallest, at $r = {int(best['rank'])}$, "
                rf"$\lambda_S = {best['student_lam']:.3g}$.", "fig:tradeoff"))
        elif step == "closed forms":
            from .equations import closed_forms_latex

            text = closed_forms_latex(setting)
            with open(os.path.join(tmp, "equations", "closed_forms.tex"), "w") as fh:
                fh.write(text)
            sections.append(("Closed forms in the aligned model",
                             [r"\input{equations/closed_forms.tex}"]))
        elif step == "bounds":
            from .bounds import bounds_section

            sections.append(bounds_section(setting, tmp, pieces, progress=progress, save=save_figure))
    return sections, pieces


def _summary(setting, out, files, pieces, compile_message):
    s = setting
    lines = [f"gaussdistill report: k={s.k}, d={s.d}, n={s.n}, r={s.rank}, nu={s.noise:g}, "
             f"tau={s.tau:g}, lambda_T={s.teacher_lam:g}, lambda_S={s.student_lam:g}, "
             f"t_T={s.teacher_temperature:g}, t_S={s.student_temperature:g}, student={s.student}, "
             f"seed={s.seed}", ""]
    dec = pieces.get("decomposition")
    if dec is not None:
        lines.append("divergence (student||teacher)   variance       rank       bias      total")
        names = {"predictive": "K^Y  predictive", "convexity": "Kbar convexity", "weight": "K^W  weight"}
        for _, row in dec[dec["direction"] == "student||teacher"].iterrows():
            lines.append(f"{names[row['kind']]:<30}" + "".join(
                f"{row[p]:>11.4g}" for p in ("variance", "rank", "bias", "total")))
        lines.append("")
    if "optimum" in pieces:
        best = pieces["optimum"]
        lines.append(f"smallest K^Y on the r x lambda_S grid: r={int(best['rank'])}, "
                     f"lambda_S={best['student_lam']:.3g} (K^Y = {best['value']:.4g})")
    for line in pieces.get("bounds_summary", []):
        lines.append(line)
    lines.append("")
    lines.append(f"wrote {out}/ ({len(files)} files):")
    groups = {}
    for f in files:
        head, name = os.path.split(f)
        stem, ext = os.path.splitext(name)
        groups.setdefault((head, stem), []).append(ext[1:])
    for (head, stem), exts in groups.items():
        name = os.path.join(head, stem)
        lines.append(f"  {name}.{exts[0]}" if len(exts) == 1 else f"  {name}.{{{','.join(exts)}}}")
    lines.append(compile_message)
    return "\n".join(lines)
