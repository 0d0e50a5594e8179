"""``cocoview stats --plots DIR / --html REPORT.html`` (issue 15): the dock's plots as PNG
files, drawn by pyqtgraph's ImageExporter on an offscreen QApplication (headless), from
the same arrays (``model/distributions.py``). Imported by the CLI only when asked."""

from __future__ import annotations

import base64
import html
import math
import os
from pathlib import Path

import numpy as np

from cocoview.model.dataset import Dataset
from cocoview.model.distributions import PLOTS, Distribution, distributions
from cocoview.model.safe_write import atomic_write

WIDTH, HEIGHT = 900, 420
BRUSH = (90, 140, 210)
LOG_BASE = -0.3  # log₁₀ bars start at 0.5, so that a count of 1 shows


def _app() -> object:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication(["cocoview-stats"])


def render_png(d: Distribution) -> bytes:
    """One plot as PNG bytes (pyqtgraph's exporter)."""
    import pyqtgraph as pg
    from pyqtgraph.exporters import ImageExporter
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    app = _app()
    pw = pg.PlotWidget(background="w")
    pw.resize(WIDTH, HEIGHT)
    item = pw.getPlotItem()
    item.setTitle(f"{d.title}  ·  {d.total:,}", color="k")
    log = d.name in ("instances", "images")
    heights = d.counts.astype(np.float64)
    if log:
        heights = np.where(heights > 0, np.log10(np.maximum(heights, 1)) - LOG_BASE, 0.0)
        item.getAxis("left").setLogMode(True)
        item.setLabel("left", "count (log)")
    else:
        item.setLabel("left", "count")
    if d.kind == "bars":
        x = np.arange(len(d.counts), dtype=np.float64)
        pw.addItem(pg.BarGraphItem(x=x, height=heights, width=0.8,
                                              y0=LOG_BASE if log else 0.0, brush=BRUSH, pen=None))
        ticks = list(enumerate(d.labels))
        step = max(1, math.ceil(len(ticks) / 12))  # labels that do not overlap
        item.getAxis("bottom").setTicks([ticks[::step], []])
    elif len(d.counts):
        pw.addItem(pg.PlotDataItem(d.edges, heights, stepMode="center", fillLevel=0,
                                   brush=BRUSH, pen=pg.mkPen(40, 80, 160)))
        if d.log_x:
            lo, hi = math.floor(d.edges[0]), math.ceil(d.edges[-1])
            item.getAxis("bottom").setTicks([[(k, f"{2.0 ** k:g}")
                                              for k in range(lo, hi + 1)], []])
    for side in ("left", "bottom"):
        item.getAxis(side).setTextPen("k")
    pw.show()  # laid out (offscreen): the axes get their widths, the title its room
    app.processEvents()  # type: ignore[attr-defined]
    exporter = ImageExporter(pw.scene())
    exporter.parameters()["width"] = WIDTH
    img = exporter.export(toBytes=True)
    buf = QByteArray()
    dev = QBuffer(buf)
    dev.open(QIODevice.OpenModeFlag.WriteOnly)
    img.save(dev, "PNG")
    dev.close()
    pw.close()
    pw.deleteLater()
    return bytes(buf.data())


def write_plots(ds: Dataset, folder: Path | None, report: Path | None,
                names: tuple[str, ...] = PLOTS) -> list[Path]:
    """Every plot as ``folder/<name>.png`` and/or one self-contained HTML page."""
    dists = distributions(ds, None, names)
    pngs = {n: render_png(d) for n, d in dists.items()}
    written: list[Path] = []
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        for n, data in pngs.items():
            target = folder / f"{n}.png"
            atomic_write(target, lambda fh, b=data: fh.write(b))  # type: ignore[misc]
            written.append(target)
    if report is not None:
        page = html_report(ds, dists, pngs)
        atomic_write(report, lambda fh: fh.write(page.encode("utf-8")))
        written.append(report)
    return written


def html_report(ds: Dataset, dists: dict[str, Distribution], pngs: dict[str, bytes]) -> str:
    esc = html.escape
    title = ", ".join(p.name for p in ds.paths) or "dataset"
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>cocoview stats: "
             f"{esc(title)}</title><style>body{{font-family:sans-serif;margin:2em}}"
             "table{border-collapse:collapse;font-size:90%}td,th{border:1px solid #ccc;"
             "padding:2px 8px}td.n{text-align:right}details{margin-bottom:2em}</style>"
             f"</head><body><h1>{esc(title)}</h1><p>{len(ds.image_ids):,} images, "
             f"{len(ds.anns):,} annotations, {len(ds.categories):,} categories</p>"]
    for n, d in dists.items():
        data = base64.b64encode(pngs[n]).decode("ascii")
        rows = "".join(f"<tr><td>{esc(str(lab))}</td><td class='n'>{c:,}</td></tr>"
                       for lab, c in d.table())
        parts.append(f"<h2>{esc(d.title)}</h2><img alt='{esc(d.title)}' "
                     f"src='data:image/png;base64,{data}'><details><summary>table</summary>"
                     f"<table><tr><th>{'value' if d.kind == 'histogram' else 'name'}</th>"
                     f"<th>count</th></tr>{rows}</table></details>")
    parts.append("</body></html>")
    return "".join(parts)
