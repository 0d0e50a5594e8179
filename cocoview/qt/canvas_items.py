"""Graphics items: one per overlay layer, each drawing all of the image's marks in one paint.

Scene coordinates are image pixels. Pens are cosmetic (constant width on
screen at any zoom); labels are drawn in device space so their text stays
readable at any zoom.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from cocoview.model.labels import place_labels
from cocoview.model.look import EDGE, item_key, labelled, limb_colors
from cocoview.model.overlays import AnnOverlay
from cocoview.model.review import Style

VisibleFn = Callable[[AnnOverlay], bool]
#: an item's verdict style (model/review.py), None: no evaluation
StyleFn = Callable[[AnnOverlay], Style | None]
PEN_STYLES = {"solid": Qt.PenStyle.SolidLine, "dash": Qt.PenStyle.DashLine,
              "dot": Qt.PenStyle.DotLine}


def _no_style(it: AnnOverlay) -> Style | None:
    return None


def qcolor(rgb: tuple[int, int, int], alpha: int = 255) -> QColor:
    return QColor(rgb[0], rgb[1], rgb[2], alpha)


def polygons_of(it: AnnOverlay) -> list[QPolygonF]:
    """Outlines as QPolygonF (a value type: safe to build in a worker thread)."""
    return [QPolygonF([QPointF(x, y) for x, y in p.tolist()]) for p in it.polygons]


class LayerItem(QGraphicsItem):
    """Base: holds the frame's annotation overlays and a visibility predicate."""

    def __init__(self, z: float) -> None:
        super().__init__()
        self.setZValue(z)
        self.items: list[AnnOverlay] = []
        self.polys: dict[int, list[QPolygonF]] = {}
        self.rect = QRectF()
        self.visible_fn: VisibleFn = lambda it: True
        self.style_fn: StyleFn = _no_style
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def set_items(self, items: list[AnnOverlay], rect: QRectF,
                  polys: dict[int, list[QPolygonF]]) -> None:
        self.prepareGeometryChange()
        self.items = items
        self.polys = polys
        # marks may stick out of the image (bad boxes): include them, plus a margin
        r = QRectF(rect)
        boxes = [it.bbox for it in items if it.bbox is not None]
        if boxes:
            b = np.asarray(boxes, np.float64)
            b = b[np.isfinite(b).all(axis=1)]
            if len(b):
                x0, y0 = b[:, 0].min(), b[:, 1].min()
                x1, y1 = (b[:, 0] + b[:, 2]).max(), (b[:, 1] + b[:, 3]).max()
                r = r.united(QRectF(float(x0), float(y0), float(x1 - x0), float(y1 - y0)))
        self.rect = r.adjusted(-8, -8, 8, 8)
        self.update()

    def boundingRect(self) -> QRectF:
        return self.rect

    def shown(self) -> list[AnnOverlay]:
        return [it for it in self.items if self.visible_fn(it)]


class OutlinesItem(LayerItem):
    antialias = True
    """Polygon and mask outlines (the mask fill itself is a pixmap item)."""

    outline_only = False

    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing, self.antialias)
        for it in self.shown():
            st = self.style_fn(it)  # a verdict: its colour and line style, thicker
            pen = QPen(qcolor(it.color if st is None else st.color),
                       2.0 if self.outline_only or st is not None else 1.0)
            pen.setCosmetic(True)
            if st is not None:
                pen.setStyle(PEN_STYLES[st.pen])
            elif it.is_result:
                pen.setStyle(Qt.PenStyle.DashLine)
            elif it.is_stuff:
                pen.setStyle(Qt.PenStyle.DotLine)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            for poly in self.polys.get(item_key(it.row, it.is_result), []):
                p.drawPolygon(poly)


class BoxesItem(LayerItem):
    """Boxes of objects (``show_things``) and of panoptic stuff (``show_stuff``)."""

    show_things = True
    show_stuff = False

    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        badges: list[tuple[QPointF, Style]] = []
        for it in self.shown():
            if it.bbox is None or not (self.show_stuff if it.is_stuff else self.show_things):
                continue
            x, y, w, h = (float(v) for v in it.bbox)
            st = self.style_fn(it)
            pen = QPen(qcolor(it.color if st is None else st.color),
                       1.5 if it.is_result and st is None else 2.0)
            pen.setCosmetic(True)
            pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
            if st is not None:
                pen.setStyle(PEN_STYLES[st.pen])
            elif it.is_result:
                pen.setStyle(Qt.PenStyle.DashLine)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(QRectF(x, y, w, h))
            if st is not None and st.badge:
                badges.append((QPointF(x + w, y), st))
        self._paint_badges(p, badges)

    def _paint_badges(self, p: QPainter, badges: list[tuple[QPointF, Style]]) -> None:
        """The verdict's mark at the box's top-right corner, at screen size."""
        if not badges:
            return
        t = p.worldTransform()
        p.save()
        p.resetTransform()
        for pt, st in badges:
            c = t.map(pt)
            box = QRectF(c.x() - 14, c.y(), 14, 14)
            p.fillRect(box, qcolor(st.color, 230))
            p.setPen(QColor(0, 0, 0))
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, st.badge)
        p.restore()


class KeypointsItem(LayerItem):
    """Skeleton and joints in their own colours (left / right / middle limbs, from the
    keypoint names) over a dark edge: readable on the mask and on any photo. v=2 joints
    are filled, v=1 hollow, v=0 never drawn."""

    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        scale = abs(p.worldTransform().m11()) or 1.0
        r = min(max(3.5 * math.sqrt(scale), 3.0), 7.0) / scale  # 3–7 px on screen
        edge_line = QPen(qcolor(EDGE, 200), 4.2)
        edge_line.setCosmetic(True)
        edge_line.setCapStyle(Qt.PenCapStyle.RoundCap)
        ring = QPen(qcolor(EDGE), 1.4)
        ring.setCosmetic(True)
        for it in self.shown():
            kp = it.keypoints
            if kp is None or not len(kp):
                continue
            if it.skeleton is not None and len(it.skeleton):
                edges = it.skeleton.tolist()
                limbs = [(QPointF(kp[a, 0], kp[a, 1]), QPointF(kp[b, 0], kp[b, 1]), c)
                         for (a, b), c in zip(edges, limb_colors(it.keypoint_names, edges),
                                              strict=True)
                         if 0 <= a < len(kp) and 0 <= b < len(kp) and kp[a, 2] > 0
                         and kp[b, 2] > 0]
                p.setPen(edge_line)
                for pa, pb, _c in limbs:
                    p.drawLine(pa, pb)
                for pa, pb, c in limbs:
                    pen = QPen(qcolor(c), 2.2)
                    pen.setCosmetic(True)
                    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
                    p.setPen(pen)
                    p.drawLine(pa, pb)
            fill = QBrush(qcolor(it.color))
            for x, y, v in kp.tolist():
                if v <= 0:
                    continue
                p.setPen(ring)
                if v >= 2:  # visible: the instance's colour, ringed dark
                    p.setBrush(fill)
                    p.drawEllipse(QPointF(x, y), r, r)
                else:  # occluded: a white ring, ringed dark
                    hollow = QPen(QColor(255, 255, 255), 2.0)
                    hollow.setCosmetic(True)
                    p.setBrush(Qt.BrushStyle.NoBrush)
                    p.drawEllipse(QPointF(x, y), r, r)
                    p.setPen(hollow)
                    p.drawEllipse(QPointF(x, y), r * 0.75, r * 0.75)


class LabelsItem(LayerItem):
    """Category labels at each box's top-left, drawn at screen size."""

    def __init__(self, z: float) -> None:
        super().__init__(z)
        self.font = QFont()
        self.font.setPointSizeF(8.5)
        self.metrics = QFontMetricsF(self.font)

    #: screen areas labels must not cover (the placeholder's text), set by the canvas
    reserved: tuple[tuple[float, float, float, float], ...] = ()

    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        """Labels placed so that none covers another (model/labels.py), largest objects
        first; one with no room is left out (its object shows it on hover)."""
        t = p.worldTransform()
        p.save()
        p.resetTransform()
        p.setFont(self.font)
        h = self.metrics.height() + 2
        items = [it for it in labelled(self.shown()) if it.bbox is not None]
        items.sort(key=lambda it: -(it.area if math.isfinite(it.area) else 0.0))
        anchors = []
        for it in items:
            x, y, bw, bh = (float(v) for v in it.bbox)  # type: ignore[union-attr]
            r = t.mapRect(QRectF(x, y, bw, bh))
            anchors.append((r.x(), r.y(), r.width(), r.height()))
        sizes = [(self.metrics.horizontalAdvance(it.label) + 8, h) for it in items]
        view = p.viewport()  # screen pixels: labels stay on screen
        spots = place_labels(anchors, sizes, (0.0, 0.0, float(view.width() or 1e9),
                                              float(view.height() or 1e9)), self.reserved)
        for it, spot, (w, _h) in zip(items, spots, sizes, strict=True):
            if spot is None:
                continue
            box = QRectF(spot[0], spot[1], w, h)
            bg = qcolor(it.color, 215)
            p.fillRect(box, bg)
            lum = 0.299 * it.color[0] + 0.587 * it.color[1] + 0.114 * it.color[2]
            p.setPen(QColor(0, 0, 0) if lum > 150 else QColor(255, 255, 255))
            p.drawText(box.adjusted(4, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, it.label)
        p.restore()


class HighlightItem(LayerItem):
    """The hovered and the selected annotation, drawn on top of everything."""

    def __init__(self, z: float) -> None:
        super().__init__(z)
        self.hover: AnnOverlay | None = None
        self.selected: AnnOverlay | None = None
        #: the ground truth the hovered / selected detection matched (drawn dashed)
        self.linked: list[AnnOverlay] = []
        #: the selected box while its handles are dragged (issue 17; None: no drag)
        self.drag_box: tuple[float, float, float, float] | None = None

    def set_drag_box(self, box: tuple[float, float, float, float] | None) -> None:
        self.drag_box = box
        self.update()

    def set_marked(self, hover: AnnOverlay | None, selected: AnnOverlay | None,
                   linked: list[AnnOverlay] | None = None) -> None:
        self.hover, self.selected = hover, selected
        self.linked = list(linked or [])
        self.update()

    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        """A halo (dark, white, then the colour) around the outline, and corner handles on
        the selected box: nothing is filled, so the object and its skeleton stay visible."""
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setBrush(Qt.BrushStyle.NoBrush)
        for m in self.linked:  # a detection's match: a dashed white halo
            if m.bbox is None:
                continue
            x, y, bw, bh = (float(v) for v in m.bbox)
            for color, w, style in ((QColor(0, 0, 0, 160), 5.0, Qt.PenStyle.SolidLine),
                                    (QColor(255, 255, 255, 235), 2.5, Qt.PenStyle.DashLine)):
                pen = QPen(color, w)
                pen.setCosmetic(True)
                pen.setStyle(style)
                p.setPen(pen)
                p.drawRect(QRectF(x, y, bw, bh))
        for it, width in ((self.hover, 2.0), (self.selected, 3.0)):
            if it is None:
                continue
            polys = self.polys.get(item_key(it.row, it.is_result), [])
            for color, w in ((QColor(0, 0, 0, 160), width + 4.5),
                             (QColor(255, 255, 255, 235), width + 2.5), (qcolor(it.color), width)):
                pen = QPen(color, w)
                pen.setCosmetic(True)
                pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
                p.setPen(pen)
                if polys:
                    for poly in polys:
                        p.drawPolygon(poly)
                elif it.bbox is not None:
                    x, y, bw, bh = (float(v) for v in it.bbox)
                    p.drawRect(QRectF(x, y, bw, bh))
        it = self.selected
        if it is not None and self.drag_box is not None:  # the box being dragged
            for color, w in ((QColor(0, 0, 0, 200), 3.5), (QColor(255, 255, 255), 1.5)):
                pen = QPen(color, w)
                pen.setCosmetic(True)
                pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
                p.setPen(pen)
                p.drawRect(QRectF(*self.drag_box))
        if it is not None and it.bbox is not None:  # handles, at screen size
            t = p.worldTransform()
            x, y, bw, bh = (float(v) for v in (self.drag_box or it.bbox))
            p.save()
            p.resetTransform()
            p.setPen(QPen(QColor(0, 0, 0), 1.0))
            p.setBrush(QBrush(QColor(255, 255, 255)))
            for cx, cy in ((x, y), (x + bw, y), (x, y + bh), (x + bw, y + bh)):
                c = t.map(QPointF(cx, cy))
                p.drawRect(QRectF(c.x() - 3.5, c.y() - 3.5, 7, 7))
            p.restore()


class PlaceholderItem(QGraphicsItem):
    """What is wrong with the image, written over it in screen-sized text.

    Over the grey placeholder frame (the image cannot be shown): why, in the
    middle. Over a picture shown anyway (truncated, another size than the
    JSON's): a notice in a dark band along the top.
    """

    def __init__(self) -> None:
        super().__init__()
        self.setZValue(7)
        self.rect = QRectF()
        self.message = ""
        self.banner = False
        self.boxes: list[tuple[float, float, float, float]] = []
        self.text_at_top = False
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def set(self, w: int, h: int, message: str, banner: bool = False,
            boxes: list[tuple[float, float, float, float]] | None = None) -> None:
        """``boxes`` (the overlays', scene coordinates) decide where the text goes."""
        self.prepareGeometryChange()
        self.rect = QRectF(0, 0, w, h)
        self.message = message
        self.banner = banner
        self.boxes = boxes or []
        self.text_at_top = self._top_is_clearer()
        self.update()

    def _top_is_clearer(self) -> bool:
        """Whether the image's top fifth covers fewer overlay boxes than its bottom fifth.

        Decided once per frame, in image coordinates, so that the canvas can put its
        Set Images Folder button at the other end (ties: the text goes to the bottom)."""
        band = self.rect.height() / 5

        def covered(y0: float) -> float:
            total = 0.0
            for x, y, w, h in self.boxes:
                inter = QRectF(x, y, w, h).intersected(
                    QRectF(self.rect.left(), y0, self.rect.width(), band))
                total += max(inter.width(), 0.0) * max(inter.height(), 0.0)
            return total

        return covered(self.rect.top()) < covered(self.rect.bottom() - band)

    def boundingRect(self) -> QRectF:
        return self.rect

    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        t = p.worldTransform()
        p.save()
        p.resetTransform()
        font = QFont()
        font.setPointSizeF(10)
        p.setFont(font)
        r = t.mapRect(self.rect)
        flags = Qt.AlignmentFlag.AlignHCenter | Qt.TextFlag.TextWordWrap
        if self.banner:
            lines = ["⚠  " + line for line in self.message.splitlines() if line]
            text = "\n".join(lines)
            box = r.adjusted(0, 0, 0, 0)
            inner = box.adjusted(10, 6, -10, 0)
            need = p.boundingRect(inner, int(flags), text)
            box.setHeight(min(need.height() + 12, r.height()))
            p.fillRect(box, QColor(20, 20, 24, 200))
            p.setPen(QColor(240, 220, 150))
            p.drawText(box.adjusted(10, 6, -10, -6), int(flags | Qt.AlignmentFlag.AlignTop),
                       text)
        else:  # why there is no picture: a band along the bottom, clear of the overlays'
            # middle, where most objects and their labels are
            text = "⚠  " + (self.message or "image not available")
            inner = r.adjusted(12, 0, -12, 0)
            need = p.boundingRect(inner, int(flags), text)
            height = min(need.height() + 16, r.height())
            top = r.top() if self.text_at_top else r.bottom() - height
            band = QRectF(r.left(), top, r.width(), height)
            p.fillRect(band, QColor(20, 20, 24, 170))
            p.setPen(QColor(240, 220, 150))
            p.drawText(band.adjusted(12, 8, -12, -8), int(flags | Qt.AlignmentFlag.AlignTop),
                       text)
        p.restore()
