"""Texts of Help → Keyboard shortcuts and Help → About."""

from __future__ import annotations

import html
from collections.abc import Iterable

from cocoview.qt.actions import ActionSpec, key_text

EXTRA = (
    ("Canvas", "Mouse wheel", "Zoom at the cursor"),
    ("Canvas", "Drag", "Pan"),
    ("Canvas", "Click", "Select the annotation under the cursor"),
    ("Canvas", "Hover", "Highlight an annotation; keypoint names"),
)


def shortcuts_html(specs: Iterable[ActionSpec]) -> str:
    rows: list[str] = []
    group = ""
    for s in specs:
        if not s.shortcuts:
            continue
        if s.group != group:
            group = s.group
            rows.append(f"<tr><td colspan=2><b>{html.escape(group)}</b></td></tr>")
        keys = ", ".join(key_text(k) for k in s.shortcuts)
        rows.append(f"<tr><td style='padding-right:18px'>{html.escape(s.text.replace('&', ''))}"
                    f"</td><td><code>{html.escape(keys)}</code></td></tr>")
    rows.append("<tr><td colspan=2><b>Canvas</b></td></tr>")
    for _g, keys, what in EXTRA:
        rows.append(f"<tr><td style='padding-right:18px'>{html.escape(what)}</td>"
                    f"<td><code>{html.escape(keys)}</code></td></tr>")
    return "<table cellspacing=2>" + "".join(rows) + "</table>"


def about_text(version: str) -> str:
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import qVersion

    from cocoview.model.cache_info import cache_summary, log_dir

    cache = cache_summary()
    return (
        f"<h3>cocoview {html.escape(version)}</h3>"
        "<p>A fast desktop browser for COCO-format datasets.</p>"
        "<p><b>Licences.</b> cocoview is MIT-licensed. It uses Qt "
        f"{html.escape(qVersion())} through PySide6 {html.escape(pyside_version)}, both "
        "under the GNU LGPL v3 (<a href='https://www.qt.io/licensing/'>qt.io/licensing</a>; "
        "you may replace the Qt libraries this program uses with your own build); "
        "pycocotools (BSD-2), NumPy (BSD-3), Pillow (MIT-CMU), OpenCV (Apache-2.0), "
        "msgspec (BSD-3) and hotcoco (MIT) under their own licences.</p>"
        "<p>The demo dataset: COCO annotations © COCO Consortium, CC BY 4.0; images "
        "from Flickr under each image's own licence (listed in demo/NOTICE.md).</p>"
        f"<p>Index cache: <code>{html.escape(cache['path'])}</code> "
        f"({cache['bytes'] / 1e6:.1f} MB)<br>"
        f"Error log: <code>{html.escape(str(log_dir()))}</code></p>"
    )
