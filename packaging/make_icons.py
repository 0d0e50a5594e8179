"""Render the app icon (resources/icons/cocoview.svg) into every size the bundles need.

Writes ``resources/icons/cocoview-<n>.png`` (the window icon and the Linux
hicolor sizes), ``packaging/icons/cocoview.ico`` (Windows) and
``packaging/icons/cocoview.icns`` (macOS). Run it after changing the SVG::

    python packaging/make_icons.py
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SVG = REPO / "resources" / "icons" / "cocoview.svg"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def render(size: int) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    img = QImage(size, size, QImage.Format.Format_ARGB32)
    img.fill(Qt.GlobalColor.transparent)
    painter = QPainter(img)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(str(SVG)).render(painter)
    painter.end()
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    img.save(buf, "PNG")
    return bytes(data.data())


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PIL import Image
    from PySide6.QtGui import QGuiApplication

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    out = REPO / "resources" / "icons"
    pngs = {n: render(n) for n in SIZES}
    for n, data in pngs.items():
        (out / f"cocoview-{n}.png").write_bytes(data)
    icons = REPO / "packaging" / "icons"
    icons.mkdir(exist_ok=True)
    big = Image.open(io.BytesIO(pngs[256]))
    big.save(icons / "cocoview.ico", sizes=[(n, n) for n in (16, 24, 32, 48, 64, 128, 256)])
    Image.open(io.BytesIO(pngs[512])).save(icons / "cocoview.icns")
    print(f"wrote {len(pngs)} PNGs to {out}, cocoview.ico and cocoview.icns to {icons}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
