"""The export dialog: formats, split with its preview table, overwrite, errors, settings."""

from __future__ import annotations

import csv
import json
import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

import cocoview
from cocoview.model import export as export_mod
from cocoview.model.dataset import Dataset
from cocoview.model.export import category_rows, list_lines
from cocoview.model.filters import ImageFilter, filter_images
from cocoview.model.split import parse_split, split_images
from cocoview.qt.export_dialog import (
    MIN_IMAGES,
    ExportDialog,
    SplitTableModel,
)
from cocoview.qt.settings import app_settings
from cocoview.qt.state import ViewerState
from cocoview.resources import demo_files
from cocoview.testing.synth import generate_coco


@pytest.fixture(scope="module")
def demo() -> Dataset:
    return cocoview.open(demo_files())


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    path = tmp_path_factory.mktemp("synth") / "synth.json"
    generate_coco(path, n_images=400, n_annotations=3000, n_categories=12)
    return cocoview.open(path)


@pytest.fixture
def state(qapp, demo: Dataset) -> ViewerState:
    s = ViewerState()
    s.set_dataset(demo)
    flt = ImageFilter(categories=(1,))  # person: 12 images
    s.set_image_list(filter_images(demo, flt), flt.describe(demo))
    return s


def make(qtbot: QtBot, state: ViewerState) -> ExportDialog:
    dlg = ExportDialog(state)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitUntil(dlg.idle, timeout=10000)  # the first preview
    return dlg


@pytest.fixture
def dialog(qtbot: QtBot, state: ViewerState) -> ExportDialog:
    dlg = make(qtbot, state)
    yield dlg
    qtbot.waitUntil(dlg.idle, timeout=10000)


def run_export(qtbot: QtBot, dlg: ExportDialog) -> list[Path]:
    with qtbot.waitSignal(dlg.exported, timeout=20000) as sig:
        qtbot.mouseClick(dlg.export_button, Qt.MouseButton.LeftButton)
    return list(sig.args[0])


def set_split(qtbot: QtBot, dlg: ExportDialog, text: str, seed: int = 0,
              stratify: bool = False) -> None:
    dlg.split.setChecked(True)
    dlg.parts.setText(text)
    dlg.seed.setValue(seed)
    dlg.stratify.setChecked(stratify)
    dlg._start_preview()  # skip the typing pause
    qtbot.waitUntil(dlg.idle, timeout=20000)


def test_table_model_passes_the_model_tester(qtmodeltester, synth: Dataset) -> None:
    model = SplitTableModel()
    qtmodeltester.check(model)
    spec = parse_split("train=0.7,val=0.2,test=0.1")
    rows = category_rows(synth, split_images(synth, synth.image_ids, spec, 1))
    model.set_rows(rows, spec)
    qtmodeltester.check(model)
    assert model.columnCount() == 2 + 2 * 3
    assert model.index(0, 0).data() == "All images"  # the totals first
    assert model.rows() == rows  # what the CSV holds: as the model layer gave it


def test_share_highlight(qapp) -> None:
    model = SplitTableModel()
    spec = [("train", 0.8), ("val", 0.2)]
    rows = [
        {"id": 1, "name": "off", "total": MIN_IMAGES, "train": 12, "train_share": 0.6,
         "val": 8, "val_share": 0.4},
        {"id": 2, "name": "rare", "total": MIN_IMAGES - 1, "train": 9, "train_share": 9 / 19,
         "val": 10, "val_share": 10 / 19},
        {"id": 3, "name": "fine", "total": 100, "train": 83, "train_share": 0.83,
         "val": 17, "val_share": 0.17},
        {"id": None, "name": "(all images)", "total": 139, "train": 104, "train_share": 0.75,
         "val": 35, "val_share": 0.25},
    ]
    model.set_rows(rows, spec)
    bg = Qt.ItemDataRole.BackgroundRole
    # row 0 is the totals row
    assert model.index(1, 3).data(bg) is not None  # off: 60 % vs 80 %, 20 images
    assert "target is 80%" in model.index(1, 3).data(Qt.ItemDataRole.ToolTipRole)
    assert model.index(2, 3).data(bg) is None  # too few images to judge
    assert model.index(3, 3).data(bg) is None  # within 5 points
    assert model.index(0, 3).data(bg) is None
    assert model.off_target() == ["off"]
    assert model.index(1, 3).data() == "60.0 %"


@pytest.mark.parametrize("fmt", ["ids", "names", "paths"])
def test_export_lists(qtbot: QtBot, dialog: ExportDialog, state: ViewerState, demo: Dataset,
                      tmp_path: Path, fmt: str) -> None:
    assert "12" in dialog.what.text() and "any of {person}" in dialog.what.text()
    dialog.format.setCurrentIndex(dialog.format.findData(fmt))
    out = tmp_path / "list.txt"
    dialog.output.setText(str(out))
    assert run_export(qtbot, dialog) == [out]
    assert out.read_text().splitlines() == list_lines(demo, state.image_list, fmt)  # type: ignore[arg-type]
    assert dialog.result() == dialog.DialogCode.Accepted


def test_export_coco_in_a_worker(qtbot: QtBot, dialog: ExportDialog, state: ViewerState,
                                 tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[bool] = []
    real = export_mod.write_coco

    def spy(*args, **kw):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread() is threading.main_thread())
        return real(*args, **kw)

    monkeypatch.setattr(export_mod, "write_coco", spy)
    dialog.format.setCurrentIndex(dialog.format.findData("coco"))
    out = tmp_path / "subset.json"
    dialog.output.setText(str(out))
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert dialog.busy and dialog.busy_bar.isVisible() and not dialog.export_button.isEnabled()
    with qtbot.waitSignal(dialog.exported, timeout=20000):
        pass
    assert threads == [False]
    doc = json.loads(out.read_text())
    assert [im["id"] for im in doc["images"]] == state.image_list.tolist()
    assert {a["image_id"] for a in doc["annotations"]} <= set(state.image_list.tolist())
    assert not dialog.busy


def test_format_change_swaps_the_suffix(dialog: ExportDialog, tmp_path: Path) -> None:
    dialog.output.setText(str(tmp_path / "out.txt"))
    dialog.format.setCurrentIndex(dialog.format.findData("coco"))
    assert dialog.output.text() == str(tmp_path / "out.json")
    dialog.format.setCurrentIndex(dialog.format.findData("names"))
    assert dialog.output.text() == str(tmp_path / "out.txt")


def test_split_with_preview_table_and_csv(qtbot: QtBot, dialog: ExportDialog,
                                          state: ViewerState, demo: Dataset,
                                          tmp_path: Path) -> None:
    set_split(qtbot, dialog, "train=0.75, val=0.25", seed=3, stratify=True)
    spec = parse_split("train=0.75,val=0.25")
    parts = split_images(demo, state.image_list, spec, 3, stratify=True)
    assert dialog.table_model.rows() == category_rows(demo, parts)
    assert dialog.table_model.headerData(2, Qt.Orientation.Horizontal) == "train"
    assert dialog.table_model.headerData(3, Qt.Orientation.Horizontal) == "train %"
    assert "train 9 (75.0%), val 3 (25.0%)" in dialog.preview_status.text()
    assert dialog.save_table.isEnabled()
    assert "train.txt, val.txt" in dialog.files_hint.text()
    assert dialog.output_label.text() == "Output folder:"

    table = tmp_path / "table.csv"
    dialog.save_table_to(table)
    qtbot.waitUntil(dialog.idle, timeout=10000)
    with table.open() as fh:
        got = list(csv.DictReader(fh))
    assert [r["name"] for r in got] == [str(r["name"]) for r in dialog.table_model.rows()]
    assert "Saved the table" in dialog.preview_status.text()

    folder = tmp_path / "split"
    dialog.output.setText(str(folder))
    written = run_export(qtbot, dialog)
    assert written == [folder / "train.txt", folder / "val.txt"]
    for (name, ids) in parts.items():
        assert (folder / f"{name}.txt").read_text().split() == [str(i) for i in ids]


def test_file_and_folder_are_kept_apart(dialog: ExportDialog, tmp_path: Path) -> None:
    dialog.output.setText(str(tmp_path / "one.txt"))
    dialog.split.setChecked(True)
    dialog.output.setText(str(tmp_path / "parts"))
    dialog.split.setChecked(False)
    assert dialog.output.text() == str(tmp_path / "one.txt")
    assert dialog.output_label.text() == "Output file:"
    dialog.split.setChecked(True)
    assert dialog.output.text() == str(tmp_path / "parts")


def test_bad_split_text_shows_an_error(qtbot: QtBot, dialog: ExportDialog) -> None:
    dialog.split.setChecked(True)
    dialog.parts.setText("train=0.8,val=0.3")
    assert dialog.error.isVisible()
    assert "sum to 1.1" in dialog.error.text()
    assert not dialog.export_button.isEnabled()
    dialog._start_preview()
    assert dialog.table_model.rowCount() == 0 and not dialog.save_table.isEnabled()
    dialog.parts.setText("train=0.8,val")
    assert "not NAME=RATIO" in dialog.error.text()
    dialog.parts.setText("train=0.8,val=0.2")
    assert not dialog.error.isVisible() and dialog.export_button.isEnabled()


def test_confirms_before_overwriting(qtbot: QtBot, dialog: ExportDialog, state: ViewerState,
                                     tmp_path: Path) -> None:
    out = tmp_path / "ids.txt"
    out.write_text("old\n")
    dialog.output.setText(str(out))
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.confirm_box is not None and dialog.confirm_box.isVisible(),
                    timeout=10000)
    box = dialog.confirm_box
    assert box is not None and str(out) in box.informativeText()
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert out.read_text() == "old\n"  # nothing written
    assert dialog.isVisible() and not dialog.busy
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.confirm_box is not box and dialog.confirm_box is not None
                    and dialog.confirm_box.isVisible(), timeout=10000)
    replace = dialog.confirm_box.findChild(type(dialog.export_button), "export_replace")
    with qtbot.waitSignal(dialog.exported, timeout=20000):
        replace.click()
    assert out.read_text().split() == [str(i) for i in state.image_list]


def test_split_overwrite_names_every_existing_part(qtbot: QtBot, dialog: ExportDialog,
                                                   tmp_path: Path) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    (folder / "val.txt").write_text("old\n")
    set_split(qtbot, dialog, "train=0.5,val=0.5")
    dialog.output.setText(str(folder))
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.confirm_box is not None and dialog.confirm_box.isVisible(),
                    timeout=10000)
    assert "1 output file already exists" in dialog.confirm_box.text()
    assert str(folder / "val.txt") in dialog.confirm_box.informativeText()
    assert not (folder / "train.txt").exists()  # nothing written before the answer
    dialog.confirm_box.button(QMessageBox.StandardButton.Cancel).click()


def test_write_error_is_shown(qtbot: QtBot, dialog: ExportDialog, demo: Dataset,
                              tmp_path: Path) -> None:
    dialog.output.setText(str(demo.paths[0]))
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.error.isVisible() and not dialog.busy, timeout=10000)
    assert "refusing to write over the input file" in dialog.error.text()
    assert dialog.isVisible()
    dialog.output.setText(str(tmp_path / "no" / "such" / "folder" / "ids.txt"))
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Export failed" in dialog.error.text() and not dialog.busy,
                    timeout=10000)
    assert "does not exist" in dialog.error.text()
    assert not (tmp_path / "no").exists()


def test_remembers_its_settings(qtbot: QtBot, state: ViewerState, tmp_path: Path) -> None:
    dlg = make(qtbot, state)
    dlg.format.setCurrentIndex(dlg.format.findData("coco"))
    dlg.split.setChecked(True)
    dlg.parts.setText("a=0.5,b=0.5")
    dlg.seed.setValue(7)
    dlg.stratify.setChecked(True)
    dlg.output.setText(str(tmp_path / "folder"))
    dlg.reject()
    qtbot.waitUntil(dlg.idle, timeout=10000)
    again = make(qtbot, state)
    assert again.fmt() == "coco"
    assert again.split.isChecked() and again.parts.text() == "a=0.5,b=0.5"
    assert again.seed.value() == 7 and again.stratify.isChecked()
    # the folder the export went in is remembered; the name is this dataset's own
    stem = state.dataset.paths[0].name.split(".")[0]  # type: ignore[union-attr]
    assert again.output.text() == str(tmp_path / f"{stem}-split")
    again.reject()
    qtbot.waitUntil(again.idle, timeout=10000)


def test_the_first_export_goes_to_documents_not_the_data_folder(
        qtbot: QtBot, state: ViewerState, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtCore import QStandardPaths
    docs = tmp_path / "Documents"
    docs.mkdir()
    monkeypatch.setattr(QStandardPaths, "writableLocation", lambda _loc: str(docs))
    app_settings().remove("export/dir")
    dlg = make(qtbot, state)
    out = Path(dlg.output.text())
    assert out.parent == docs and out.name.endswith("-subset.txt")
    assert out.parent != state.dataset.paths[0].parent  # type: ignore[union-attr]
    dlg.reject()
    qtbot.waitUntil(dlg.idle, timeout=10000)


def test_empty_list_cannot_be_exported(qtbot: QtBot, state: ViewerState) -> None:
    state.set_image_list(np.empty(0, np.int64), "nothing")
    dlg = make(qtbot, state)
    assert not dlg.export_button.isEnabled()
    assert "empty" in dlg.error.text()


def test_main_window_export_action(qtbot: QtBot, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from cocoview.qt.main_window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    act = w.actions_["export"]
    assert not act.isEnabled()  # nothing open
    assert act.shortcut().toString() == "Ctrl+E"
    with qtbot.waitSignal(w.loader.loaded, timeout=20000):
        w.open_demo()
    assert act.isEnabled()
    act.trigger()
    dlg = w.export_dialog
    assert dlg is not None and dlg.isVisible()
    qtbot.waitUntil(dlg.idle, timeout=10000)
    out = tmp_path / "exported.txt"
    dlg.output.setText(str(out))
    with qtbot.waitSignal(dlg.exported, timeout=10000):
        dlg.export_button.click()
    assert out.is_file() and w.export_dialog is None
    # the status bar says what was written, with a way to the folder
    assert str(out) in w.statusBar().currentMessage()
    opened: list[str] = []
    from PySide6.QtGui import QDesktopServices
    monkeypatch.setattr(QDesktopServices, "openUrl",
                        lambda url: opened.append(url.toLocalFile()) or True)
    assert w.reveal.isVisible()
    qtbot.mouseClick(w.reveal, Qt.MouseButton.LeftButton)
    assert opened == [str(tmp_path)]
    w.statusBar().clearMessage()
    assert not w.reveal.isVisible()
    w.close()


def test_the_preview_table_fits_its_width(qtbot: QtBot, dialog: ExportDialog) -> None:
    """Three parts (seven columns of numbers) fit without a horizontal scroll bar."""
    set_split(qtbot, dialog, "train=0.7,val=0.2,test=0.1", seed=0, stratify=False)
    t = dialog.table
    total = sum(t.horizontalHeader().sectionSize(c)
                for c in range(dialog.table_model.columnCount()))
    assert total <= t.viewport().width()
    # the scroll bar's visibility follows the layout a moment later
    qtbot.waitUntil(lambda: not t.horizontalScrollBar().isVisible(), timeout=3000)
    name_col = t.horizontalHeader().sectionSize(0)
    assert name_col >= t.fontMetrics().horizontalAdvance("traffic light")
