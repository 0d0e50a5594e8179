"""``ImageListModel``: the rows of ``state.image_list`` for the list and the grid."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
from PySide6.QtCore import (
    QAbstractTableModel,
    QObject,
    QRectF,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QImage, QPainter, QPixmap

from cocoview.model.edits import SetTags
from cocoview.model.review import Review
from cocoview.model.tags import file_tags, tags_of
from cocoview.qt.jobs import Jobs
from cocoview.qt.state import ViewerState
from cocoview.qt.thumbnail_grid import ERRORS_ROLE, IMAGE_SIZE_ROLE, SUBTITLE_ROLE, THUMBNAIL_ROLE
from cocoview.qt.thumbnails import ThumbnailCache
from cocoview.qt.widgets import TOP, Index

IMAGE_ID_ROLE = Qt.ItemDataRole.UserRole
_BLOCK = 1024  # image-table rows are looked up this many list rows at a time
_LIST_ICON = QSize(32, 24)
_MAX_TEXTS = 8192  # rows whose texts are kept (a few pages of the list and the grid)
_R = Qt.ItemDataRole
#: the roles ``data`` answers; a view asks for ~10 per cell, most of them for nothing
_ROLES = frozenset(int(r) for r in (
    _R.DisplayRole, _R.DecorationRole, _R.TextAlignmentRole, _R.ToolTipRole, IMAGE_ID_ROLE,
    THUMBNAIL_ROLE, IMAGE_SIZE_ROLE, SUBTITLE_ROLE, ERRORS_ROLE))
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


class ImageListModel(QAbstractTableModel):
    """Rows of ``state.image_list``: file name (with thumbnail), id, annotation count.

    Nothing is copied per row: every answer is read from the dataset when a
    view asks, and thumbnails are asked for only for the rows being painted.
    """

    BASE_COLUMNS = ("File name", "Id", "Annotations")
    #: shown while a review is active: per image at the min score (Review.per_image)
    REVIEW_COLUMNS = ("FP", "Missed", "Errors")
    _REVIEW_KEYS = ("fp", "missed", "errors")
    #: the last column once an image has a tag (issue 17): its tags, comma-separated
    TAGS_COLUMN = "Tags"
    COLUMNS: tuple[str, ...] = BASE_COLUMNS

    def __init__(self, state: ViewerState, thumbnails: ThumbnailCache,
                 icon_size: QSize = _LIST_ICON, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.thumbnails = thumbnails
        self.icon_size = QSize(icon_size)
        self._ids: np.ndarray = state.image_list
        self._blocks: dict[int, np.ndarray] = {}
        #: list row → (file name text, id, annotations, grid subtitle, image size): what a
        #: paint asks of each row, made once per row until the list, the counts or the
        #: review change (a paint asks ~550 times)
        self._texts: dict[int, tuple[str, int, int, str, tuple[int, int] | None]] = {}
        self._asked: dict[int, int] = {}  # image id → list row, for rows waiting for a thumbnail
        self._icons: OrderedDict[int, QIcon] = OrderedDict()
        self._placeholder = _placeholder_icon(self.icon_size)
        self.review: Review | None = None
        self._per: dict[str, np.ndarray] | None = None  # review.per_image(min score)
        self.COLUMNS = self.BASE_COLUMNS
        state.minScoreChanged.connect(lambda _v: self._recount())
        state.imageListChanged.connect(self._reset)
        state.visibilityChanged.connect(self._thumbnails_stale)
        state.imagePolicyChanged.connect(self._thumbnails_stale)
        state.datasetChanged.connect(self._icons.clear)
        state.datasetChanged.connect(self._texts.clear)
        thumbnails.thumbnailReady.connect(self._thumbnail_ready)
        state.edited.connect(self._counts_changed)
        state.edited.connect(self._tags_edited)
        state.datasetChanged.connect(self._find_tags)
        self._tag_jobs = Jobs(self)  # finds the tags saved in the file (model/tags.py)

    # ----- lookups ------------------------------------------------------
    def image_id(self, row: int) -> int:
        return int(self._ids[row])

    def row_of(self, image_id: int) -> int:
        """List row of ``image_id`` (-1 if not listed); vectorised, ~2 ms at 2 M rows."""
        hits = np.flatnonzero(self._ids == image_id)
        return int(hits[0]) if len(hits) else -1

    def _ds_row(self, row: int) -> int:
        b = row // _BLOCK
        rows = self._blocks.get(b)
        if rows is None:
            ds = self.state.dataset
            chunk = self._ids[b * _BLOCK : (b + 1) * _BLOCK]
            rows = ds.image_rows(chunk) if ds is not None else np.full(len(chunk), -1)
            if len(self._blocks) > 256:
                self._blocks.clear()
            self._blocks[b] = rows
        return int(rows[row - b * _BLOCK])

    # ----- Qt model interface -------------------------------------------
    def rowCount(self, parent: Index = TOP) -> int:
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: Index = TOP) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.COLUMNS):
            if role == Qt.ItemDataRole.DisplayRole:
                return self.COLUMNS[section]
            if role == Qt.ItemDataRole.TextAlignmentRole and section > 0:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | \
            Qt.ItemFlag.ItemNeverHasChildren

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in _ROLES:
            return None
        row = index.row()
        if self.state.dataset is None or not 0 <= row < len(self._ids) or not index.isValid():
            return None
        col = index.column()
        if role == _R.DisplayRole:
            if self.COLUMNS[col] == self.TAGS_COLUMN:
                return self._tags_text(row)
            if col >= 3:
                return self._review_value(self._ds_row(row), self._REVIEW_KEYS[col - 3])
            return self.texts(row)[col]
        if role == _R.DecorationRole:
            return self._icon(row) if col == 0 else None
        if role == THUMBNAIL_ROLE:
            return self._thumbnail(row)[0]
        if role == _R.TextAlignmentRole:
            return _RIGHT if col > 0 else None
        if role == IMAGE_ID_ROLE:
            return int(self._ids[row])
        if role == IMAGE_SIZE_ROLE:
            return self.texts(row)[4]
        if role == SUBTITLE_ROLE:
            return self.texts(row)[3]
        if role == ERRORS_ROLE:
            return self.errors(row)
        return self._tooltip(row)  # ToolTipRole

    def texts(self, row: int) -> tuple[str, int, int, str, tuple[int, int] | None]:
        """(file name text, id, annotations, grid subtitle, (width, height)) of list row
        ``row``, kept until the list, the edits or the review change."""
        t = self._texts.get(row)
        if t is not None:
            return t
        ds = self.state.dataset
        r = self._ds_row(row)
        image_id = int(self._ids[row])
        if ds is None or r < 0:
            t = ("", image_id, 0, f"#{image_id} · 0 ann.", None)
        else:
            n = int(self._counts()[r])
            sub = f"#{image_id} · {n} ann."
            if self._per is not None:
                sub += f" · {int(self._per['fp'][r])} FP · {int(self._per['missed'][r])} missed"
            t = (ds.image_file_names[r] or f"(image {image_id})", image_id, n, sub,
                 (int(ds.image_width[r]), int(ds.image_height[r])))
        if len(self._texts) >= _MAX_TEXTS:
            self._texts.clear()
        self._texts[row] = t
        return t

    def cell(self, row: int) -> tuple[QImage | None, str, str, tuple[int, int] | None,
                                      tuple[int, int] | None]:
        """What the grid's delegate paints of list row ``row`` in one call: (thumbnail,
        name, subtitle, image size, review errors) — the roles it would ask for."""
        t = self.texts(row)
        return self._thumbnail(row)[0], t[0], t[3], t[4], self.errors(row)

    def errors(self, row: int) -> tuple[int, int] | None:
        """A review's (false positives, missed GT) of list row ``row`` (None: no review)."""
        if self._per is None:
            return None
        r = self._ds_row(row)
        return (int(self._per["fp"][r]), int(self._per["missed"][r])) if r >= 0 else None

    # ----- the review's counts -------------------------------------------
    def set_review(self, review: Review | None) -> None:
        """Show the per-image FP / missed / error columns (None: hide them)."""
        self.beginResetModel()
        self.review = review
        self.COLUMNS = self.BASE_COLUMNS + (self.REVIEW_COLUMNS if review is not None else ()) \
            + ((self.TAGS_COLUMN,) if self.TAGS_COLUMN in self.COLUMNS else ())
        self._per = review.per_image(self.state.min_score) if review is not None else None
        self._texts.clear()
        self.endResetModel()

    def _recount(self) -> None:
        if self.review is None:
            return
        self._per = self.review.per_image(self.state.min_score)
        self._texts.clear()
        if len(self._ids):
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._ids) - 1,
                                                               len(self.COLUMNS) - 1))

    def review_widest(self) -> tuple[str, ...]:
        """The widest text of each review column (FP, Missed, Errors; () without a review):
        from the counts' maxima, so the view sizes them without asking every row."""
        if self._per is None:
            return ()
        out = []
        for key in self._REVIEW_KEYS:
            v = self._per[key]
            top = float(v.max()) if len(v) else 0.0
            out.append(f"{top:.2f}" if key == "errors" else str(int(top)))
        return tuple(out)

    def _review_value(self, r: int, key: str) -> Any:
        if self._per is None or r < 0:
            return None
        v = self._per[key][r]
        return round(float(v), 2) if key == "errors" else int(v)

    def _counts(self) -> np.ndarray:
        """Annotations per image row, after the edits (kept incrementally, issue 17)."""
        edits = self.state.model.edits
        ds = self.state.dataset
        return edits.image_count if edits is not None else (
            ds.image_ann_count if ds is not None else np.zeros(0, np.int64))

    def _counts_changed(self, _edit: object) -> None:
        """An edit: the count column repaints (the views ask only for the visible rows)."""
        self._texts.clear()
        if len(self._ids):
            self.dataChanged.emit(self.index(0, 2), self.index(len(self._ids) - 1, 2),
                                  [Qt.ItemDataRole.DisplayRole])

    # ----- tags (issue 17) ------------------------------------------------
    def _tags_text(self, row: int) -> str:
        ds = self.state.view
        return self._tags_text_of(ds, int(self._ids[row])) if ds is not None else ""

    @staticmethod
    def _tags_text_of(ds: Any, image_id: int) -> str:
        return ", ".join(tags_of(ds, image_id))

    def _find_tags(self) -> None:
        """A new dataset: no Tags column until an image has a tag (the file's are found
        in a worker: it reads the images' bytes)."""
        if self.TAGS_COLUMN in self.COLUMNS:
            self.beginResetModel()
            self.COLUMNS = tuple(c for c in self.COLUMNS if c != self.TAGS_COLUMN)
            self.endResetModel()
        self._tag_jobs.cancel("tags")
        ds = self.state.dataset
        if ds is not None:
            self._tag_jobs.submit(ds, file_tags, lambda t: self._show_tags(bool(t)),
                                  lambda _exc: None, channel="tags")

    def _tags_edited(self, edit: object) -> None:
        if isinstance(edit, SetTags):
            self._show_tags(bool(edit.tags))
            row = self.row_of(int(edit.image_id))
            if row >= 0:
                ix = self.index(row, len(self.COLUMNS) - 1)
                self.dataChanged.emit(ix, ix, [Qt.ItemDataRole.DisplayRole])

    def _show_tags(self, any_tag: bool) -> None:
        """Add the Tags column (last) once an image has a tag; it stays for the dataset."""
        if any_tag and self.TAGS_COLUMN not in self.COLUMNS:
            n = len(self.COLUMNS)
            self.beginInsertColumns(TOP, n, n)
            self.COLUMNS = (*self.COLUMNS, self.TAGS_COLUMN)
            self.endInsertColumns()

    # ----- thumbnails ---------------------------------------------------
    def _thumbnail(self, row: int) -> tuple[QImage | None, bool]:
        """(image, fresh): the cached thumbnail, else the stale one while a job runs."""
        image_id = int(self._ids[row])
        img = self.thumbnails.get(image_id)
        if img is not None:
            return img, True
        if len(self._asked) > 4096:
            self._asked.clear()
        self._asked[image_id] = row
        return self.thumbnails.stale(image_id), False

    def _icon(self, row: int) -> QIcon:
        image_id = int(self._ids[row])
        icon = self._icons.get(image_id)
        if icon is not None:
            self._icons.move_to_end(image_id)
            return icon
        img, fresh = self._thumbnail(row)
        if img is None:
            return self._placeholder
        icon = QIcon(_fit_pixmap(img, self.icon_size))
        if fresh:
            self._icons[image_id] = icon
            if len(self._icons) > 2000:
                self._icons.popitem(last=False)
        return icon

    def _thumbnail_ready(self, image_id: int) -> None:
        row = self._asked.pop(int(image_id), -1)
        if 0 <= row < len(self._ids) and int(self._ids[row]) == image_id:
            ix = self.index(row, 0)
            self.dataChanged.emit(ix, ix, [Qt.ItemDataRole.DecorationRole, THUMBNAIL_ROLE])

    def _thumbnails_stale(self) -> None:
        self._icons.clear()
        self._asked.clear()
        if len(self._ids):
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._ids) - 1, 0),
                                  [Qt.ItemDataRole.DecorationRole, THUMBNAIL_ROLE])

    def _tooltip(self, row: int) -> str:
        ds = self.state.view
        r = self._ds_row(row)
        if ds is None or r < 0:
            return ""
        image_id = int(self._ids[row])
        w, h = int(ds.image_width[r]), int(ds.image_height[r])
        size = f"{w} × {h} px" if w > 0 and h > 0 else "size unknown"
        n = int(ds.image_ann_count[r])
        path = ds.image_path(image_id)
        return (f"{ds.image_file_names[r] or '(no file name)'}\n"
                f"id {image_id} · {size} · {n} annotation{'s' if n != 1 else ''}\n"
                f"{path if path is not None else ''}")

    # ----- sorting: the browsed list itself, so Next follows the order shown ------------
    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort the browsed list by a column (-1: back to the file's order); navigation
        follows. Vectorised over the columns (a stable sort: ties keep their order)."""
        ds = self.state.view
        ids = self.state.image_list
        if ds is None or not len(ids):
            return
        rows = ds.image_rows(ids)
        if column == 0:
            names = np.asarray(ds.image_file_names, dtype=object)[np.maximum(rows, 0)]
            key: np.ndarray = np.char.lower(names.astype(str))
        elif column == 1:
            key = ids
        elif column == 2:
            key = ds.image_ann_count[np.maximum(rows, 0)]
        elif column >= 0 and self.COLUMNS[column] == self.TAGS_COLUMN:
            key = np.asarray([self._tags_text_of(ds, int(i)).casefold() for i in ids.tolist()])
        elif column >= 3 and self._per is not None:
            key = self._per[self._REVIEW_KEYS[column - 3]][np.maximum(rows, 0)]
        else:
            key = rows  # the file's order
        if column >= 0 and order == Qt.SortOrder.DescendingOrder:  # ties keep their order
            perm = (len(key) - 1 - np.argsort(key[::-1], kind="stable"))[::-1]
        else:
            perm = np.argsort(key, kind="stable")
        label = self.state.image_list_label.split("; sorted by")[0]
        if column >= 0:
            label += f"; sorted by {self.COLUMNS[column].lower()}" + (
                " ↓" if order == Qt.SortOrder.DescendingOrder else "")
        self.state.set_image_list(ids[perm], label)

    def _reset(self) -> None:
        self.beginResetModel()
        self._ids = self.state.image_list
        self._blocks.clear()
        self._texts.clear()
        self._asked.clear()
        self.endResetModel()


def screen_dpr() -> float:
    screen = QGuiApplication.primaryScreen()
    return screen.devicePixelRatio() if screen is not None else 1.0


def _fit_pixmap(img: QImage, size: QSize) -> QPixmap:
    """``img`` scaled into a transparent pixmap of exactly ``size`` (so list text aligns)."""
    dpr = screen_dpr()
    pm = QPixmap(size * dpr)
    pm.setDevicePixelRatio(dpr)
    pm.fill(Qt.GlobalColor.transparent)
    small = img.scaled(size * dpr, Qt.AspectRatioMode.KeepAspectRatio,
                       Qt.TransformationMode.SmoothTransformation)
    w, h = small.width() / dpr, small.height() / dpr
    p = QPainter(pm)
    p.drawImage(QRectF((size.width() - w) / 2, (size.height() - h) / 2, w, h), small)
    p.end()
    return pm


def _placeholder_icon(size: QSize) -> QIcon:
    dpr = screen_dpr()
    pm = QPixmap(size * dpr)
    pm.setDevicePixelRatio(dpr)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(128, 128, 128, 60))
    p.drawRoundedRect(QRectF(0.5, 2.5, size.width() - 1, size.height() - 5), 2, 2)
    p.end()
    return QIcon(pm)
