"""Graphics items: one per overlay layer, each drawing all of the image's marks in one paint.

Scene coordinates are image pixels. Pens are cosmetic (constant width on
screen at any zoom); labels are drawn in device space so their text stays
readable at any zoom.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from cocoview.model.look import item_key
from cocoview.model.overlays import AnnOverlay

VisibleFn = Callable[[AnnOverlay], bool]


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
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def set_items(self, items: list[AnnOverlay], rect: QRectF,
                  polys: dict[int, list[QPolygonF]]) -> None:
        self.prepareGeometryChange()
        self.items = items
        self.polys = polys
        # marks may stick out of the image (bad boxes): include them, plus a margin
        r = QRectF(rect)
        for it in items:
            if it.bbox is not None:
                x, y, w, h = (float(v) for v in it.bbox)
                r = r.united(QRectF(x, y, w, h))
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
            pen = QPen(qcolor(it.color), 2.0 if self.outline_only else 1.0)
            pen.setCosmetic(True)
            if it.is_result:
                pen.setStyle(Qt.PenStyle.DashLine)
            elif it.is_stuff:
                pen.setStyle(Qt.PenStyle.DotLine)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            for poly in self.polys.get(item_key(it.row, it.is_result), []):
                p.drawPolygon(poly)


class BoxesItem(LayerItem):
    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        for it in self.shown():
            if it.bbox is None:
                continue
            x, y, w, h = (float(v) for v in it.bbox)
            pen = QPen(qcolor(it.color), 1.5 if it.is_result else 2.0)
            pen.setCosmetic(True)
            pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
            if it.is_result:
                pen.setStyle(Qt.PenStyle.DashLine)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(QRectF(x, y, w, h))


class KeypointsItem(LayerItem):
    """Skeleton lines and points: v=2 filled, v=1 hollow, v=0 never drawn."""

    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        scale = abs(p.worldTransform().m11()) or 1.0
        r = min(max(3.5 * math.sqrt(scale), 3.0), 7.0) / scale  # 3–7 px on screen
        for it in self.shown():
            kp = it.keypoints
            if kp is None or not len(kp):
                continue
            color = qcolor(it.color)
            line = QPen(color, 2.0)
            line.setCosmetic(True)
            p.setPen(line)
            if it.skeleton is not None:
                for a, b in it.skeleton.tolist():
                    if 0 <= a < len(kp) and 0 <= b < len(kp) and kp[a, 2] > 0 and kp[b, 2] > 0:
                        p.drawLine(QPointF(kp[a, 0], kp[a, 1]), QPointF(kp[b, 0], kp[b, 1]))
            edge = QPen(color.darker(160), 1.2)
            edge.setCosmetic(True)
            for x, y, v in kp.tolist():
                if v <= 0:
                    continue
                if v >= 2:
                    p.setPen(edge)
                    p.setBrush(QBrush(QColor(255, 255, 255)))
                else:
                    hollow = QPen(color, 1.8)
                    hollow.setCosmetic(True)
                    p.setPen(hollow)
                    p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawEllipse(QPointF(x, y), r, r)


class LabelsItem(LayerItem):
    """Category labels at each box's top-left, drawn at screen size."""

    def __init__(self, z: float) -> None:
        super().__init__(z)
        self.font = QFont()
        self.font.setPointSizeF(8.5)
        self.metrics = QFontMetricsF(self.font)

    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        t = p.worldTransform()
        p.save()
        p.resetTransform()
        p.setFont(self.font)
        h = self.metrics.height()
        for it in self.shown():
            if it.bbox is None:
                continue
            pt = t.map(QPointF(float(it.bbox[0]), float(it.bbox[1])))
            w = self.metrics.horizontalAdvance(it.label) + 8
            box = QRectF(pt.x(), pt.y() - h - 2, w, h + 2)
            if box.top() < 0:
                box.moveTop(pt.y())
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

    def set_marked(self, hover: AnnOverlay | None, selected: AnnOverlay | None) -> None:
        self.hover, self.selected = hover, selected
        self.update()

    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for it, width, alpha in ((self.hover, 2.5, 90), (self.selected, 3.5, 140)):
            if it is None:
                continue
            halo = QPen(QColor(255, 255, 255, 230), width + 2.5)
            halo.setCosmetic(True)
            pen = QPen(qcolor(it.color), width)
            pen.setCosmetic(True)
            polys = self.polys.get(item_key(it.row, it.is_result), [])
            for pn, fill in ((halo, False), (pen, True)):
                p.setPen(pn)
                p.setBrush(QBrush(qcolor(it.color, alpha)) if fill and polys else
                           Qt.BrushStyle.NoBrush)
                if polys:
                    for poly in polys:
                        p.drawPolygon(poly)
                elif it.bbox is not None:
                    x, y, w, h = (float(v) for v in it.bbox)
                    p.drawRect(QRectF(x, y, w, h))


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
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def set(self, w: int, h: int, message: str, banner: bool = False) -> None:
        self.prepareGeometryChange()
        self.rect = QRectF(0, 0, w, h)
        self.message = message
        self.banner = banner
        self.update()

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
        else:
            text = self.message or "image not available"
            p.setPen(QColor(240, 220, 150))
            p.drawText(r.adjusted(12, 12, -12, -12),
                       int(flags | Qt.AlignmentFlag.AlignVCenter), "⚠  " + text)
        p.restore()
