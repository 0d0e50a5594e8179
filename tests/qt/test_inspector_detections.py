"""The inspector's list shows the image's detections below its annotations (issue 14):
score, verdict and matched GT; selecting one selects it on the canvas, and back."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelectionModel
from pytestqt.qtbot import QtBot

from cocoview.model.viewer import Item
from cocoview.qt.inspector import KIND_ROLE, ROW_ROLE, InspectorPanel
from cocoview.qt.review import ReviewController
from cocoview.qt.state import ViewerState
from tests.builders import result_row
from tests.qt.test_review import show_evaluated
from tests.test_review import review_case


def test_detections_in_the_annotation_list(qtbot: QtBot, tmp_path: Path) -> None:
    ds, _rv = review_case(tmp_path)
    state = ViewerState()
    panel = InspectorPanel(state)
    qtbot.addWidget(panel)
    rc = ReviewController(state, panel)
    rc.reviewChanged.connect(panel.set_review)
    show_evaluated(qtbot, state, rc, ds)
    state.set_current_image(1)
    m = panel.list_model
    texts = [m.index(i).data() for i in range(m.rowCount())]
    assert len(m.rows) == 4 and texts[:4] == [m.index(i).data() for i in range(4)]
    assert texts[4:] == ["a 0.90  ✓ TP → GT #10", "a 0.80  ✗ FP · Bkg",
                         "a 0.70  – ignored (crowd)", "a 0.40  ✓ TP → GT #11"]
    assert [m.index(i).data(KIND_ROLE) for i in range(m.rowCount())] == \
        ["annotation"] * 4 + ["detection"] * 4
    assert [m.index(i).data(ROW_ROLE) for i in range(4, 8)] == \
        [result_row(ds, k) for k in (0, 1, 2, 3)]
    assert "false positive" in m.index(5).data(0x03)  # the hover text (ToolTipRole)
    assert panel.list_title.text() == "Annotations  (4) · 4 detections"
    # list → canvas: selecting the FP's row selects that detection
    fp = result_row(ds, 1)
    panel.list_view.selectionModel().setCurrentIndex(
        m.index(5), QItemSelectionModel.SelectionFlag.ClearAndSelect)
    assert state.selected_detection == fp and state.selected_row == -1
    assert panel.details.topLevelItemCount() > 0  # the detection's properties
    # canvas → list: selecting a detection (a click on it) selects its row
    state.select(result_row(ds, 3), "detection")
    sel = panel.list_view.selectionModel().selectedIndexes()
    assert [i.row() for i in sel] == [7]
    state.select(int(m.rows[0]))  # and a GT again
    assert [i.row() for i in panel.list_view.selectionModel().selectedIndexes()] == [0]
    # hovering a detection's row hovers it on the canvas
    panel.list_view.entered.emit(m.index(4))
    assert state.hovered == Item("detection", result_row(ds, 0))
    # the min score: detections under it are not drawn, nor listed
    state.set_min_score(0.5)
    assert [m.index(i).data() for i in range(4, m.rowCount())] == [
        "a 0.90  ✓ TP → GT #10", "a 0.80  ✗ FP · Bkg", "a 0.70  – ignored (crowd)"]
    rc.shutdown()
