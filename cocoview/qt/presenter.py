"""Between the viewer state, the frame workers and the canvas: which frame is wanted,
which neighbours are prefetched, the look they are blended with, and the one check
that a frame arriving late is not shown over the image the user has moved to."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal, Slot

from cocoview.qt.canvas import Canvas
from cocoview.qt.frames import Frame, FrameLoader
from cocoview.qt.state import ViewerState

#: neighbours prefetched around the current image, in this order
PREFETCH = (1, -1, 2)


class CanvasPresenter(QObject):
    """Follows the state; asks ``frames`` for the current image (and its neighbours);
    shows what arrives on ``canvas`` if it is still wanted."""

    #: a frame of the current image is on the canvas (for the status bar)
    frameShown = Signal(object)

    def __init__(self, state: ViewerState, frames: FrameLoader, canvas: Canvas,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state, self.frames, self.canvas = state, frames, canvas
        state.datasetChanged.connect(self._dataset_changed)
        state.currentImageChanged.connect(self._current_image)
        for sig in (state.visibilityChanged, state.layersChanged):
            sig.connect(self._look_changed)
        for vsig in (state.opacityChanged, state.minScoreChanged, state.colorByInstanceChanged):
            vsig.connect(lambda _v: self._look_changed())
        state.imagePolicyChanged.connect(
            lambda: frames.set_allow_outside(state.allow_outside_images))
        frames.frameReady.connect(self._frame_ready)
        frames.lookReady.connect(canvas.show_look)

    @Slot()
    def _dataset_changed(self) -> None:
        self.frames.set_dataset(self.state.dataset)
        self._look_changed()

    @Slot()
    def _look_changed(self) -> None:
        self.frames.use_look(self.state.look())

    @Slot(int)
    def _current_image(self, image_id: int) -> None:
        if image_id < 0 or self.state.dataset is None:
            self.canvas.clear()
            return
        self.frames.request(image_id)
        ids = self.state.image_list
        i = self.state.current_index()
        if i >= 0:
            self.frames.prefetch([int(ids[i + d]) for d in PREFETCH if 0 <= i + d < len(ids)])

    @Slot(object)
    def _frame_ready(self, frame: Frame) -> None:
        if frame.image_id != self.state.current_image:
            return  # the user has moved on: it stays cached for when they come back
        self.canvas.show_frame(frame)
        self.frameShown.emit(frame)
