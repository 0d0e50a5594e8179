"""The image canvas: a QGraphicsView whose scene coordinates are image pixels.

Zoom with the wheel (under the cursor) or Ctrl +/−, pan by dragging, fit (F),
100 % (1), zoom to the selected annotation (Z). Hover highlights an annotation
and shows a tooltip; a click selects it. Pixel-exact (no smoothing) past 100 %.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPixmap,
    QPolygonF,
    QResizeEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QMenu,
    QPushButton,
    QToolTip,
    QWidget,
)

from cocoview.model.look import item_key
from cocoview.model.overlays import AnnOverlay
from cocoview.model.review import Review, Style, detection_tooltip, ground_truth_tooltip
from cocoview.model.viewer import Item
from cocoview.qt.box_drag import BoxDrag
from cocoview.qt.canvas_items import (
    BoxesItem,
    HighlightItem,
    KeypointsItem,
    LabelsItem,
    LayerItem,
    OutlinesItem,
    PlaceholderItem,
    polygons_of,
)
from cocoview.qt.frames import Frame
from cocoview.qt.review_legend import ReviewLegend
from cocoview.qt.state import ViewerState

ZOOM_MIN, ZOOM_MAX = 0.02, 64.0
CLICK_SLOP = 4  # px a press may move and still be a click


class Canvas(QGraphicsView):
    cursorMoved = Signal(float, float)  # image pixel coordinates (NaN outside)
    zoomChanged = Signal(float)
    #: the placeholder's "Set Images Folder…" button (the file is not where the JSON says)
    imagesFolderRequested = Signal()
    #: the selected box was dragged (issue 17): annotation row, (x, y, w, h), "Move box" /
    #: "Resize box"; the edit is made by canvas_edits
    boxEdited = Signal(int, object, str)

    def __init__(self, state: ViewerState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.setScene(QGraphicsScene(self))
        self.setBackgroundBrush(QColor(38, 40, 44))
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.setMouseTracking(True)
        self.viewport().setCursor(Qt.CursorShape.CrossCursor)

        self.image_item = QGraphicsPixmapItem()
        self.image_item.setZValue(0)
        self.image_item.setShapeMode(QGraphicsPixmapItem.ShapeMode.BoundingRectShape)
        self.placeholder = PlaceholderItem()
        self.outlines = OutlinesItem(2)
        self.boxes = BoxesItem(3)
        self.keypoints = KeypointsItem(4)
        self.labels = LabelsItem(5)
        self.highlight = HighlightItem(6)
        self.layers: list[LayerItem] = [self.outlines, self.boxes, self.keypoints, self.labels,
                                        self.highlight]
        for item in (self.image_item, self.placeholder, *self.layers):
            self.scene().addItem(item)
        for layer in self.layers:
            layer.visible_fn = self._is_visible
            layer.style_fn = self.verdict_style
        #: the evaluation's verdicts (model/review.py; None: none) and the view mode
        self.review: Review | None = None
        self.view_mode = "both"

        self.legend = ReviewLegend(self.viewport())

        self.folder_button = QPushButton("Set Images Folder…", self.viewport())
        self.folder_button.setObjectName("canvas_folder_button")
        self.folder_button.setToolTip("Point the dataset at the folder of its images (Ctrl+I)")
        self.folder_button.setCursor(Qt.CursorShape.ArrowCursor)
        self.folder_button.clicked.connect(self.imagesFolderRequested)
        self.folder_button.setVisible(False)

        self.frame: Frame | None = None
        self.polys: dict[int, list[QPolygonF]] = {}
        self._fit_pending = True
        self._auto_fit = True
        self._press: QPoint | None = None
        self._tooltip_row = -2
        self._tooltip_key: tuple[bool, int] | None = None
        self.box_drag = BoxDrag(self)  # the selected box's handles (issue 17)
        #: add entries to the context menu: f(menu, item under the cursor or None)
        self.menu_extenders: list[Callable[[QMenu, AnnOverlay | None], None]] = []

        #: a new review repaints the layers in the next event-loop turn: the review's
        #: arrival (every view's update) and this repaint each stay short (issue 14)
        self._repaint_soon = QTimer(self)
        self._repaint_soon.setSingleShot(True)
        self._repaint_soon.setInterval(0)
        self._repaint_soon.timeout.connect(self._repaint_layers)
        state.layersChanged.connect(self.apply_layers)
        state.outlineOnlyChanged.connect(lambda _on: self.apply_layers())
        state.visibilityChanged.connect(self._repaint_layers)
        state.minScoreChanged.connect(lambda _v: self._min_score_changed())
        state.hoverChanged.connect(lambda _r: self._update_marks())
        state.selectionChanged.connect(lambda _r: self._update_marks())
        self.apply_layers()

    # ----- content ------------------------------------------------------
    def show_frame(self, frame: Frame) -> None:
        """Put a decoded frame on screen (GUI thread: QPixmaps are made here)."""
        same_size = self.frame is not None and (self.frame.width, self.frame.height) == (
            frame.width, frame.height)
        self.frame = frame
        rect = QRectF(0, 0, frame.width, frame.height)
        self._show_pixmap()
        # why the image is not shown (over the placeholder), or what is wrong with it
        self.placeholder.set(frame.width, frame.height, frame.error or frame.notice,
                             banner=not frame.error,
                             boxes=[tuple(it.bbox.tolist()) for it in frame.overlays.items
                                    if it.bbox is not None][:5000])
        self.placeholder.setVisible(bool(frame.error or frame.notice))
        self.folder_button.setVisible(frame.file_missing)
        self._place_folder_button()
        self.polys = frame.polys or {item_key(it.row, it.is_result): polygons_of(it)
                                     for it in frame.overlays.items}
        for layer in self.layers:
            layer.set_items(frame.overlays.items, rect, self.polys)
        self.scene().setSceneRect(rect)
        self._update_marks()
        if self.review is not None:
            self._update_legend()
        self._update_smoothing()
        if self._auto_fit or not same_size or self._fit_pending:
            self.fit()

    def show_look(self, frame: Frame) -> None:
        """The same frame re-blended (hidden categories or opacity changed)."""
        if self.frame is not None and frame.image_id == self.frame.image_id:
            self.frame = frame
            self._show_pixmap()
            self._repaint_layers()  # colours may have changed (by category / by instance)

    def _show_pixmap(self) -> None:
        f = self.frame
        if f is None:
            return
        masks = self.state.layers.get("masks", True) and not self.state.outline_only
        img = f.composite if masks and f.composite is not None else f.base
        pm = QPixmap.fromImage(img)
        self.image_item.setPixmap(pm)
        # a reduced decode of a huge image still covers the JSON's size
        self.image_item.setTransform(QTransform.fromScale(f.width / max(pm.width(), 1),
                                                          f.height / max(pm.height(), 1)))

    def clear(self) -> None:
        self.frame = None
        self.image_item.setPixmap(QPixmap())
        self.placeholder.setVisible(False)
        self.folder_button.setVisible(False)
        for layer in self.layers:
            layer.set_items([], QRectF(), {})

    # ----- layers -------------------------------------------------------
    def apply_layers(self) -> None:
        lay = self.state.layers
        outline_only = self.state.outline_only
        self._show_pixmap()
        self.outlines.outline_only = outline_only
        self.outlines.setVisible(lay.get("masks", True))
        self.boxes.setVisible(lay.get("boxes", True) or lay.get("stuff_boxes", False))
        self.boxes.show_things = lay.get("boxes", True)
        self.boxes.show_stuff = lay.get("stuff_boxes", False)
        self.keypoints.setVisible(lay.get("keypoints", True))
        self.labels.setVisible(lay.get("labels", True))
        self._repaint_layers()

    def _is_visible(self, it: AnnOverlay) -> bool:
        if not self.state.look().shows(it):
            return False
        mode, rv = self.view_mode, self.review
        if mode == "gt":
            return not it.is_result
        if mode == "predictions":
            return it.is_result
        if mode == "errors" and rv is not None:
            return rv.is_error(it.row if it.is_result else -1,
                               -1 if it.is_result else it.row, self.state.min_score)
        return True

    def verdict_style(self, it: AnnOverlay) -> Style | None:
        """The item's verdict style at the min score (None: no evaluation)."""
        rv = self.review
        if rv is None:
            return None
        return rv.style(it.row if it.is_result else -1, -1 if it.is_result else it.row,
                        self.state.min_score)

    def set_review(self, review: Review | None) -> None:
        self.review = review
        self._update_legend()
        self._update_marks()
        self._repaint_soon.start()

    def _min_score_changed(self) -> None:
        self._update_legend()
        self._update_marks()
        self._repaint_layers()

    def _update_legend(self) -> None:
        """The legend with the shown image's counts at the min score."""
        ds, f = self.state.dataset, self.frame
        row = None
        if ds is not None and f is not None:
            r = int(ds.image_rows([f.image_id])[0])
            row = r if r >= 0 else None
        self.legend.set_review(self.review, self.state.min_score, row)
        self._place_legend()

    def _place_legend(self) -> None:
        """Bottom-left corner of the view."""
        vp = self.viewport()
        self.legend.move(8, max(vp.height() - self.legend.height() - 8, 0))

    def set_view_mode(self, mode: str) -> None:
        """"both" / "gt" / "predictions" / "errors" (model/review.py VIEW_MODES)."""
        self.view_mode = mode
        self._repaint_layers()

    def _repaint_layers(self) -> None:
        for layer in self.layers:
            layer.update()

    # ----- hover & selection -------------------------------------------
    def item_for_row(self, row: int, is_result: bool = False) -> AnnOverlay | None:
        if self.frame is None or row < 0:
            return None
        for it in self.frame.overlays.items:
            if it.row == row and it.is_result == is_result:
                return it
        return None

    def _overlay_of(self, item: Item | None) -> AnnOverlay | None:
        if item is None:
            return None
        return self.item_for_row(item.row, item.kind == "detection")

    def _update_marks(self) -> None:
        hover = self._overlay_of(self.state.hovered)
        sel = self.state.model.selection
        selected = self._overlay_of(next(iter(sel))) if len(sel) == 1 else None
        # a hovered or selected detection's match is highlighted too
        linked = [m for m in (self._match_of(hover), self._match_of(selected)) if m is not None]
        self.highlight.set_marked(hover, selected, linked)

    def _match_of(self, it: AnnOverlay | None) -> AnnOverlay | None:
        """The ground truth a drawn detection matched (None: none, or not a detection)."""
        if it is None or not it.is_result or self.review is None:
            return None
        row, _gid, _iou = self.review.match_of(it.row)
        return self.item_for_row(row) if row >= 0 else None

    def hit_test(self, pos: QPointF, results: bool = False) -> AnnOverlay | None:
        """The smallest visible ground-truth annotation under ``pos`` (scene coordinates);
        with ``results`` detections too, and an item whose box edge passes within a few
        screen pixels of ``pos`` wins (so a detection drawn over its ground truth is picked
        by its edge)."""
        if self.frame is None:
            return None
        x, y = pos.x(), pos.y()
        tol = 4.0 / max(abs(self.transform().m11()), 1e-6)
        best: tuple[tuple[int, float, bool], AnnOverlay] | None = None
        for it in self.frame.overlays.items:
            if (it.is_result and not results) or not self._is_visible(it):
                continue
            hit = False
            edge = math.inf
            if results and it.bbox is not None:
                bx, by, bw, bh = (float(v) for v in it.bbox)
                if bx - tol <= x <= bx + bw + tol and by - tol <= y <= by + bh + tol:
                    edge = min(abs(x - bx), abs(x - bx - bw), abs(y - by), abs(y - by - bh))
            polys = self.polys.get(item_key(it.row, it.is_result), [])
            if it.mask is not None:
                x0, y0, x1, y1 = it.mask_box
                if x0 <= x < x1 and y0 <= y < y1:
                    hit = bool(it.mask[int(y - y0), int(x - x0)])
            elif polys:
                hit = any(p.containsPoint(pos, Qt.FillRule.OddEvenFill) for p in polys)
            elif it.bbox is not None:
                bx, by, bw, bh = it.bbox
                hit = bx <= x <= bx + bw and by <= y <= by + bh
            if edge <= tol:
                hit = True
            if hit:
                area = it.area if math.isfinite(it.area) and it.area > 0 else 1e18
                if it.is_result and it.bbox is not None:
                    area = float(it.bbox[2] * it.bbox[3]) or 1e18
                # near an edge: the nearest edge first; on a shared edge the detection
                # (drawn on top); else the smallest object, the ground truth of two alike
                # (an annotation added from a detection lies exactly on it: its edge
                # picks the detection)
                key = (0, edge, not it.is_result) if edge <= tol else (1, area, it.is_result)
                if best is None or key < best[0]:
                    best = (key, it)
        return best[1] if best else None

    def keypoint_at(self, pos: QPointF) -> tuple[AnnOverlay, int] | None:
        if self.frame is None or not self.keypoints.isVisible():
            return None
        tol = 6.0 / max(self.transform().m11(), 1e-6)
        for it in self.frame.overlays.items:
            if it.keypoints is None or not self._is_visible(it):
                continue
            kp = it.keypoints
            d = np.hypot(kp[:, 0] - pos.x(), kp[:, 1] - pos.y())
            d[kp[:, 2] <= 0] = np.inf
            k = int(np.argmin(d)) if len(d) else -1
            if k >= 0 and d[k] <= tol:
                return it, k
        return None

    # ----- zoom ---------------------------------------------------------
    @property
    def zoom(self) -> float:
        return float(self.transform().m11())

    def set_zoom(self, z: float, anchor: QPointF | None = None) -> None:
        z = min(max(z, ZOOM_MIN), ZOOM_MAX)
        cur = self.zoom or 1.0
        self._auto_fit = False
        if anchor is not None:
            self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
            before = self.mapToScene(anchor.toPoint())
            self.scale(z / cur, z / cur)
            after = self.mapToScene(anchor.toPoint())
            d = after - before
            self.translate(d.x(), d.y())
            self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        else:
            self.scale(z / cur, z / cur)
        self._update_smoothing()
        self.zoomChanged.emit(self.zoom)

    def zoom_in(self) -> None:
        self.set_zoom(self.zoom * 1.25)

    def zoom_out(self) -> None:
        self.set_zoom(self.zoom / 1.25)

    def actual_size(self) -> None:
        self.set_zoom(1.0)
        if self.frame is not None:
            self.centerOn(self.frame.width / 2, self.frame.height / 2)

    def fit(self) -> None:
        if self.frame is None:
            return
        self._fit_pending = self.viewport().width() < 10
        self.fitInView(QRectF(0, 0, self.frame.width, self.frame.height),
                       Qt.AspectRatioMode.KeepAspectRatio)
        self._auto_fit = True
        self._update_smoothing()
        self.zoomChanged.emit(self.zoom)

    def zoom_to_selection(self) -> None:
        it = self.item_for_row(self.state.selected_row)
        if it is None or it.bbox is None:
            return
        x, y, w, h = (float(v) for v in it.bbox)
        pad = max(w, h) * 0.25 + 8
        self.fitInView(QRectF(x - pad, y - pad, w + 2 * pad, h + 2 * pad),
                       Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom > ZOOM_MAX:
            self.set_zoom(ZOOM_MAX)
        self._auto_fit = False
        self._update_smoothing()
        self.zoomChanged.emit(self.zoom)

    def _update_smoothing(self) -> None:
        smooth = self.zoom < 1.0
        mode = (Qt.TransformationMode.SmoothTransformation if smooth
                else Qt.TransformationMode.FastTransformation)
        self.image_item.setTransformationMode(mode)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)

    # ----- events -------------------------------------------------------
    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.set_zoom(self.zoom * (1.2 ** steps), event.position())
        event.accept()

    def _place_folder_button(self) -> None:
        """Centred at the end of the view away from the placeholder's text band."""
        b = self.folder_button
        b.adjustSize()
        vp = self.viewport()
        y = vp.height() - b.height() - 24 if self.placeholder.text_at_top else 24
        b.move(max((vp.width() - b.width()) // 2, 0), max(y, 0))

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._place_folder_button()
        self._place_legend()
        super().resizeEvent(event)
        if self._auto_fit or self._fit_pending:
            QTimer.singleShot(0, self.fit)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self.box_drag.press(event):
            event.accept()
            return
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = event.position().toPoint()
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self.box_drag.release(event, CLICK_SLOP):
            event.accept()
            return
        super().mouseReleaseEvent(event)
        event.accept()  # a click on empty canvas is ours too (it clears the selection)
        self.viewport().setCursor(Qt.CursorShape.CrossCursor)
        if event.button() != Qt.MouseButton.LeftButton or self._press is None:
            return
        moved = (event.position().toPoint() - self._press).manhattanLength()
        self._press = None
        if moved <= CLICK_SLOP:
            self.click_at(event.position())

    def click_at(self, pos: QPointF) -> None:
        """A click at viewport ``pos``: select what is there (nothing: clear)."""
        it = self.hit_test(self.mapToScene(pos.toPoint()), results=True)
        if it is None:
            self.state.select(-1)
        else:
            self.state.select(it.row, "detection" if it.is_result else "annotation")

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self.box_drag.move(event):
            return
        super().mouseMoveEvent(event)
        pos = self.mapToScene(event.position().toPoint())
        if self.frame is not None and 0 <= pos.x() < self.frame.width and \
                0 <= pos.y() < self.frame.height:
            self.cursorMoved.emit(pos.x(), pos.y())
        else:
            self.cursorMoved.emit(math.nan, math.nan)
        if self.legend.isVisible():  # the legend steps aside for what is under it
            self.legend.set_faded(self.legend.geometry().contains(event.position().toPoint()))
        if event.buttons() & Qt.MouseButton.LeftButton:
            return  # panning
        kp = self.keypoint_at(pos)
        it = self.hit_test(pos, results=True)
        self.state.hover_item(None if it is None else Item(
            "detection" if it.is_result else "annotation", it.row))
        gp = event.globalPosition().toPoint()
        if kp is not None:
            ann, k = kp
            names = ann.keypoint_names
            name = names[k] if k < len(names) else f"keypoint {k + 1}"
            vis = {1: "occluded", 2: "visible"}.get(int(ann.keypoints[k, 2]), "")  # type: ignore[index]
            QToolTip.showText(gp, f"{name} ({vis}) — {ann.label} #{ann.ann_id}", self)
            self._tooltip_row = -3
        elif it is not None:
            if self._tooltip_key != (it.is_result, it.row) or self._tooltip_row < 0:
                QToolTip.showText(gp, self.tooltip_text(it), self)
                self._tooltip_row = it.row
                self._tooltip_key = (it.is_result, it.row)
        elif self._tooltip_row != -2:
            QToolTip.hideText()
            self._tooltip_row = -2

    def tooltip_text(self, it: AnnOverlay) -> str:
        """What hovering ``it`` shows: a detection's score, verdict, match and IoU."""
        if it.is_result:
            name = it.label.rsplit(" ", 1)[0] if math.isfinite(it.score) else it.label
            if self.review is not None:
                return detection_tooltip(self.review, it.row, name, it.score,
                                         self.state.min_score)
            return f"{name}  (detection)\nscore {it.score:.3f}"
        area = f"{it.area:,.0f}" if math.isfinite(it.area) else "?"
        text = f"{it.label}\nid {it.ann_id}\narea {area} px²"
        if self.review is not None:
            more = ground_truth_tooltip(self.review, it.row, self.state.min_score)
            text += f"\n{more}" if more else ""
        return text

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and self.box_drag.active and \
                isinstance(event, QKeyEvent) and event.key() == Qt.Key.Key_Escape:
            event.accept()  # Esc cancels the drag (not Clear Selection)
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and self.box_drag.cancel():
            event.accept()
            return
        super().keyPressEvent(event)

    def context_menu(self, pos: QPoint) -> QMenu:
        """The menu at viewport ``pos``: the item there is selected first; the entries
        come from ``menu_extenders`` (the edits, the review's fixes)."""
        it = self.hit_test(self.mapToScene(pos), results=True)
        if it is not None:
            self.state.select(it.row, "detection" if it.is_result else "annotation")
        menu = QMenu(self)
        menu.setObjectName("canvas_menu")
        for extend in self.menu_extenders:
            extend(menu, it)
        return menu

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        menu = self.context_menu(event.pos())
        if menu.actions():
            menu.exec(event.globalPos())
        event.accept()

    def leaveEvent(self, event: QEvent) -> None:
        self.state.hover(-1)
        self.cursorMoved.emit(math.nan, math.nan)
