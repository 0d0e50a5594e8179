"""Dragging the selected annotation's box on the canvas (issue 17): a corner handle
resizes, inside the box moves, Esc cancels. The drag only previews (the highlight item
draws the new box); on release the canvas emits ``boxEdited`` and the edit is made by
:mod:`cocoview.qt.canvas_edits` (one undoable command)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QMouseEvent

from cocoview.model.edits import Box
from cocoview.model.overlays import AnnOverlay

if TYPE_CHECKING:
    from cocoview.qt.canvas import Canvas

#: screen pixels around a corner that grab its handle (the handle is 7 px)
HANDLE_PX = 6.0
CURSORS = {"tl": Qt.CursorShape.SizeFDiagCursor, "br": Qt.CursorShape.SizeFDiagCursor,
           "tr": Qt.CursorShape.SizeBDiagCursor, "bl": Qt.CursorShape.SizeBDiagCursor,
           "move": Qt.CursorShape.SizeAllCursor}


def grip_at(box: Box, x: float, y: float, tol: float) -> str | None:
    """"tl" / "tr" / "bl" / "br" on a corner handle (``tol``: its reach in scene units),
    "move" inside the box, None elsewhere."""
    bx, by, bw, bh = box
    for name, cx, cy in (("tl", bx, by), ("tr", bx + bw, by), ("bl", bx, by + bh),
                         ("br", bx + bw, by + bh)):
        if abs(x - cx) <= tol and abs(y - cy) <= tol:
            return name
    if bx <= x <= bx + bw and by <= y <= by + bh:
        return "move"
    return None


def dragged(box: Box, grip: str, dx: float, dy: float) -> Box:
    """``box`` after dragging ``grip`` by (dx, dy) scene units; a corner dragged past the
    opposite one flips the box (width and height stay ≥ 0)."""
    x, y, w, h = box
    if grip == "move":
        return x + dx, y + dy, w, h
    x0, y0, x1, y1 = x, y, x + w, y + h
    if grip[1] == "l":
        x0 += dx
    else:
        x1 += dx
    if grip[0] == "t":
        y0 += dy
    else:
        y1 += dy
    return min(x0, x1), min(y0, y1), abs(x1 - x0), abs(y1 - y0)


def rounded(box: Box) -> Box:
    """To 1/100 pixel, as written."""
    x, y, w, h = (round(float(v), 2) for v in box)
    return x, y, w, h


class BoxDrag:
    """The canvas's box drag: ``press`` / ``move`` / ``release`` / ``cancel`` return True
    when they handled the event (the canvas then does not pan or select)."""

    def __init__(self, canvas: Canvas) -> None:
        self.canvas = canvas
        self.item: AnnOverlay | None = None
        self.grip = ""
        self.start = QPointF()
        self.start_px = QPointF()
        self.box0: Box = (0.0, 0.0, 0.0, 0.0)
        self.box: Box = self.box0
        #: which overlays may be dragged (set by canvas_edits: file annotations only)
        self.editable = lambda it: not it.is_result
        # the selection changed under the drag (a shortcut, a list click): it ends
        canvas.state.selectionChanged.connect(lambda _r: self._selection_changed())

    def _selection_changed(self) -> None:
        if self.item is not None and self.target() is not self.item:
            self.cancel()

    @property
    def active(self) -> bool:
        return self.item is not None

    def target(self) -> AnnOverlay | None:
        """The selected annotation, if it is one box that can be dragged."""
        c = self.canvas
        sel = c.state.model.selection
        if len(sel) != 1:
            return None
        it = c._overlay_of(next(iter(sel)))
        if it is None or it.is_result or it.bbox is None or not c._is_visible(it) \
                or not self.editable(it) or not c.boxes.isVisible():
            return None
        return it

    def grip_under(self, pos: QPointF) -> tuple[AnnOverlay, str] | None:
        it = self.target()
        if it is None or it.bbox is None:
            return None
        scene = self.canvas.mapToScene(pos.toPoint())
        tol = HANDLE_PX / max(abs(self.canvas.transform().m11()), 1e-6)
        box = tuple(float(v) for v in it.bbox)
        grip = grip_at(box, scene.x(), scene.y(), tol)  # type: ignore[arg-type]
        return (it, grip) if grip else None

    def press(self, event: QMouseEvent) -> bool:
        if event.button() != Qt.MouseButton.LeftButton or self.active:
            return False
        hit = self.grip_under(event.position())
        if hit is None:
            return False
        self.item, self.grip = hit
        self.start_px = event.position()
        self.start = self.canvas.mapToScene(event.position().toPoint())
        self.box0 = self.box = tuple(float(v) for v in hit[0].bbox)  # type: ignore[union-attr,assignment]
        self.canvas.viewport().setCursor(CURSORS[self.grip])
        self.canvas.setFocus(Qt.FocusReason.MouseFocusReason)  # Esc comes here
        return True

    def move(self, event: QMouseEvent) -> bool:
        if not self.active:
            if not event.buttons():  # hovering: the cursor says what a drag would do
                hit = self.grip_under(event.position())
                self.canvas.viewport().setCursor(CURSORS[hit[1]] if hit else
                                                 Qt.CursorShape.CrossCursor)
            return False
        p = self.canvas.mapToScene(event.position().toPoint())
        self.box = dragged(self.box0, self.grip, p.x() - self.start.x(), p.y() - self.start.y())
        self.canvas.highlight.set_drag_box(self.box)
        return True

    def release(self, event: QMouseEvent, slop: int) -> bool:
        if not self.active or event.button() != Qt.MouseButton.LeftButton:
            return False
        it, grip = self.item, self.grip
        moved = (event.position() - self.start_px).manhattanLength() > slop
        self._end()
        if not moved:  # a click after all (on an object inside the box, say)
            self.canvas.click_at(event.position())
        elif it is not None and rounded(self.box) != rounded(self.box0):
            self.canvas.boxEdited.emit(it.row, rounded(self.box),
                                       "Move box" if grip == "move" else "Resize box")
        return True

    def cancel(self) -> bool:
        """Esc: the box goes back to where it was; nothing is edited."""
        if not self.active:
            return False
        self._end()
        return True

    def _end(self) -> None:
        self.item = None
        self.canvas.highlight.set_drag_box(None)
        self.canvas.viewport().setCursor(Qt.CursorShape.CrossCursor)
