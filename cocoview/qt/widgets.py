"""Small Qt pieces the docks share: the model-index aliases, colour swatches, row
heights, headings and hints. One place, so that every list looks and behaves alike."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSize, Qt, QUrl
from PySide6.QtGui import QColor, QDesktopServices, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QLabel,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QWidget,
)

#: what Qt's item-model methods receive as an index
Index = QModelIndex | QPersistentModelIndex
#: the invisible root (a module-level default argument of rowCount and friends)
TOP = QModelIndex()
#: the role sort proxies read (a number, not the displayed text)
SORT_ROLE = Qt.ItemDataRole.UserRole + 1


def show_value(spin: QDoubleSpinBox, value: float) -> None:
    """Show a value set elsewhere (e.g. the min score from a PR curve) without sending it
    back rounded to the box's decimals."""
    spin.blockSignals(True)
    try:
        spin.setValue(value)
    finally:
        spin.blockSignals(False)


def heading(text: str, parent: QWidget) -> QLabel:
    """A bold label over a group of controls."""
    label = QLabel(text, parent)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    return label


def hint(parent: QWidget, text: str = "") -> QLabel:
    """A wrapped, placeholder-coloured line that explains the controls above it."""
    label = QLabel(text, parent)
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    label.setWordWrap(True)
    return label


_icons: dict[tuple[int, int, int], QIcon] = {}


def color_icon(rgb: tuple[int, int, int], size: int = 12) -> QIcon:
    """A small rounded swatch of ``rgb`` with a darker rim (cached; GUI thread only)."""
    icon = _icons.get(rgb)
    if icon is None:
        dpr = 2.0
        pm = QPixmap(int(size * dpr), int(size * dpr))
        pm.setDevicePixelRatio(dpr)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        fill = QColor(*rgb)
        p.setPen(fill.darker(160))
        p.setBrush(fill)
        p.drawRoundedRect(1, 1, size - 2, size - 2, 2.5, 2.5)
        p.end()
        icon = _icons[rgb] = QIcon(pm)
    return icon


def row_height(view: QWidget) -> int:
    """One comfortable row height shared by the side panels' lists, trees and grids."""
    return view.fontMetrics().height() + 6


class RowHeightDelegate(QStyledItemDelegate):
    """The default delegate with rows at least :func:`row_height` tall."""

    def __init__(self, view: QWidget) -> None:
        super().__init__(view)
        self._height = row_height(view)

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
                 ) -> QSize:
        size = super().sizeHint(option, index)
        return QSize(size.width(), max(size.height(), self._height))


class RevealButton(QToolButton):
    """"Show in file manager" beside a status message about written files: opens the
    folder that holds them (the platform's file manager, through QDesktopServices)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reveal_button")
        self.setText("Show in file manager")
        self.setAutoRaise(True)
        self.setVisible(False)
        self.folder: Path | None = None
        self.message = ""
        self.clicked.connect(self.reveal)

    def show_for(self, paths: list[Path], message: str) -> None:
        """Offer the folder of the first written path (a split's parts share theirs) for
        as long as the status bar shows ``message``."""
        if not paths:
            return
        self.folder = paths[0].parent
        self.message = message
        self.setToolTip(str(self.folder))

    def follow(self, text: str) -> None:
        """The status bar's message changed: shown beside its own message only."""
        self.setVisible(bool(text) and text == self.message)

    def reveal(self) -> None:
        if self.folder is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.folder)))
