"""The quality checks' thresholds, settable from the Problems dock and remembered.

The values are :class:`~cocoview.model.health.HealthOptions`, the same the CLI's
``validate --duplicate-iou/--tiny-side/--tiny-area/--near-duplicates`` set, so the
dock and a script find the same problems.
"""

from __future__ import annotations

from dataclasses import fields, replace

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QSpinBox,
    QWidget,
)

from cocoview.model.health import DEFAULT, HealthOptions

GROUP = "health"


def load_options(settings: QSettings) -> HealthOptions:
    """The remembered thresholds; an unreadable or out-of-range value is the default."""
    values: dict[str, object] = {}
    for f in fields(HealthOptions):
        raw = settings.value(f"{GROUP}/{f.name}")
        if raw is None:
            continue
        default = getattr(DEFAULT, f.name)
        try:
            if isinstance(default, bool):
                values[f.name] = str(raw).lower() in ("true", "1")
            elif isinstance(default, int):
                values[f.name] = max(int(raw), 0)
            else:
                value = float(raw)
                if value == value and value >= 0:  # not NaN, not negative
                    values[f.name] = value
        except (TypeError, ValueError):
            continue
    return replace(DEFAULT, **values)  # type: ignore[arg-type]


def save_options(settings: QSettings, opts: HealthOptions) -> None:
    for f in fields(HealthOptions):
        settings.setValue(f"{GROUP}/{f.name}", getattr(opts, f.name))


class HealthOptionsDialog(QDialog):
    """The thresholds of the checks the dock runs; Restore Defaults gives the documented
    ones (docs/decisions/health.md)."""

    def __init__(self, opts: HealthOptions, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Check Thresholds")
        self.duplicate_iou = self._double(0.05, 1.0, 0.05, 2,
                                          "Two boxes of one category on one image with at "
                                          "least this IoU are reported as one object "
                                          "annotated twice")
        self.tiny_side = self._double(0.0, 10_000.0, 0.5, 1,
                                      "A box narrower or lower than this (px) is tiny",
                                      " px")
        self.tiny_area = self._double(0.0, 1e8, 1.0, 1,
                                      "A box with a smaller width × height (px²) is tiny",
                                      " px²")
        self.near = QCheckBox("Find near-duplicate images (decodes every image)", self)
        self.near_distance = QSpinBox(self)
        self.near_distance.setRange(0, 32)
        self.near_distance.setSuffix(" bits of 64")
        self.near_distance.setToolTip("Two images whose perceptual hashes differ in at most "
                                      "this many bits are near duplicates")
        self.near.toggled.connect(self.near_distance.setEnabled)
        form = QFormLayout(self)
        form.addRow("Duplicate annotation IoU ≥", self.duplicate_iou)
        form.addRow("Tiny box side <", self.tiny_side)
        form.addRow("Tiny box area <", self.tiny_area)
        form.addRow(self.near)
        form.addRow("Near-duplicate distance ≤", self.near_distance)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel
                                   | QDialogButtonBox.StandardButton.RestoreDefaults, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        restore = buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults)
        restore.clicked.connect(lambda: self.set_options(DEFAULT))
        form.addRow(buttons)
        self._base = opts
        self.set_options(opts)

    def _double(self, lo: float, hi: float, step: float, decimals: int, tip: str,
                suffix: str = "") -> QDoubleSpinBox:
        box = QDoubleSpinBox(self)
        box.setRange(lo, hi)
        box.setSingleStep(step)
        box.setDecimals(decimals)
        box.setSuffix(suffix)
        box.setToolTip(tip)
        return box

    def set_options(self, opts: HealthOptions) -> None:
        self.duplicate_iou.setValue(opts.duplicate_iou)
        self.tiny_side.setValue(opts.tiny_side)
        self.tiny_area.setValue(opts.tiny_area)
        self.near.setChecked(opts.near_duplicates)
        self.near_distance.setValue(opts.near_distance)
        self.near_distance.setEnabled(opts.near_duplicates)

    def options(self) -> HealthOptions:
        return replace(self._base, duplicate_iou=self.duplicate_iou.value(),
                       tiny_side=self.tiny_side.value(), tiny_area=self.tiny_area.value(),
                       near_duplicates=self.near.isChecked(),
                       near_distance=self.near_distance.value())
