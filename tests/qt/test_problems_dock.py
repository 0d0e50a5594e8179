"""The Problems dock: filled in the worker, grouped and filtered; a click shows the image
and selects the annotation; the list exports as CSV and JSON."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import cocoview
from cocoview.model.errors import Severity
from cocoview.qt.problems_dock import ProblemsDock
from cocoview.qt.state import ViewerState
from cocoview.testing.synth import generate_coco


@pytest.fixture
def planted(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    path = tmp_path / "a.json"
    generate_coco(path, n_images=40, n_annotations=300, seed=1, n_categories=10)
    d = json.loads(path.read_text())
    a = next(x for x in d["annotations"] if not x["iscrowd"])
    tiny = {"id": 10**9, "image_id": a["image_id"], "category_id": a["category_id"],
            "bbox": [3, 3, 1, 20], "area": 20.0, "iscrowd": 0, "segmentation": []}
    dup = dict(a, id=10**9 + 1)
    d["annotations"] += [tiny, dup]
    path.write_text(json.dumps(d))
    return path, {"tiny": tiny, "dup": dup, "cat": a["category_id"]}


@pytest.fixture
def dock(qapp: object, qtbot: Any, planted: tuple[Path, dict[str, Any]]) -> ProblemsDock:
    state = ViewerState()
    state.set_dataset(cocoview.open(planted[0], cache=False))
    d = ProblemsDock(state)
    qtbot.addWidget(d)
    with qtbot.waitSignal(d.finished, timeout=30_000):
        d.show()  # shown: the check starts
    return d


def test_groups_counts_and_filters(dock: ProblemsDock,
                                   planted: tuple[Path, dict[str, Any]]) -> None:
    groups = {(code, sev): n for code, sev, n in dock.problems.groups()}  # type: ignore[union-attr]
    assert groups[("tiny-box", Severity.WARNING)] == 1
    assert groups[("duplicate-annotation", Severity.WARNING)] == 1
    assert dock.groups.topLevelItemCount() == len(groups)
    assert dock.model.rowCount() == len(dock.problems)  # type: ignore[arg-type]
    dock.select_code("tiny-box")
    assert dock.model.rowCount() == 1
    assert dock.model.index(0, 1).data() == "tiny-box"
    dock.select_code("no-such-code")
    dock.groups.clearSelection()
    dock.severity_box.setCurrentIndex(2)  # errors only: the planted ones are warnings
    assert all(dock.problems.severity[i] == Severity.ERROR  # type: ignore[union-attr]
               for i in dock.shown().tolist())
    dock.severity_box.setCurrentIndex(0)
    k = dock.category_box.findData(planted[1]["cat"])
    assert k > 0
    dock.category_box.setCurrentIndex(k)
    shown = dock.shown()
    assert len(shown) >= 2 and (dock.problems.category_id[shown]  # type: ignore[union-attr]
                                == planted[1]["cat"]).all()


def test_a_click_shows_the_image_and_selects_the_annotation(
        dock: ProblemsDock, qtbot: Any, planted: tuple[Path, dict[str, Any]]) -> None:
    state = dock._state
    ds = state.dataset
    assert ds is not None
    tiny = planted[1]["tiny"]
    dock.select_code("tiny-box")
    rect = dock.table.visualRect(dock.model.index(0, 1))
    from PySide6.QtCore import Qt

    with qtbot.waitSignal(state.selectionChanged, timeout=5000):
        qtbot.mouseClick(dock.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert state.current_image == tiny["image_id"]
    assert int(ds.anns.id[state.selected_row]) == tiny["id"]


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_export_writes_the_rows_shown(dock: ProblemsDock, qtbot: Any, tmp_path: Path,
                                      suffix: str) -> None:
    dock.select_code("duplicate-annotation")
    out = tmp_path / f"problems{suffix}"
    with qtbot.waitSignal(dock.exported, timeout=10_000) as sig:
        dock.export(out)
    assert sig.args == [str(out), 1]
    if suffix == ".csv":
        with out.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
    else:
        rows = json.loads(out.read_text())["problems"]
    assert len(rows) == 1 and rows[0]["code"] == "duplicate-annotation"
    assert int(rows[0]["annotation_id"]) == 10**9 + 1
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # atomic


def test_problems_arrive_while_the_check_runs(qapp: object, qtbot: Any,
                                              planted: tuple[Path, dict[str, Any]]) -> None:
    from cocoview.model.validate import validate_report

    ds = cocoview.open(planted[0], cache=False)
    batches: list[int] = []
    rep = validate_report(ds, found=lambda ps: batches.append(len(ps)))
    assert len(batches) > 1 and sum(batches) == len(rep.problems)
    state = ViewerState()
    state.set_dataset(ds)
    d = ProblemsDock(state)
    qtbot.addWidget(d)
    counts: list[int] = []
    d.model.modelReset.connect(lambda: counts.append(d.model.rowCount()))
    with qtbot.waitSignal(d.finished, timeout=30_000):
        d.start()
    assert counts[-1] == len(rep.problems)
    assert np.isin(d.problems.image_id, ds.image_ids).any()  # type: ignore[union-attr]


def test_thresholds_change_what_is_found_and_are_remembered(
        dock: ProblemsDock, qtbot: Any, planted: tuple[Path, dict[str, Any]]) -> None:
    """A tiny-side threshold under the planted box's 1 px width stops reporting it; a
    second dock (the next run of the app) starts with the remembered thresholds."""
    from dataclasses import replace

    from cocoview.qt.health_options import HealthOptionsDialog

    def count(code: str) -> int:
        return sum(n for c, _s, n in dock.problems.groups() if c == code)  # type: ignore[union-attr]

    assert count("tiny-box") == 1
    with qtbot.waitSignal(dock.finished, timeout=30_000):
        dock.set_options(replace(dock.options, tiny_side=0.5, tiny_area=0.0))
    assert count("tiny-box") == 0
    assert count("duplicate-annotation") == 1  # the other checks still run
    again = ProblemsDock(dock._state)
    qtbot.addWidget(again)
    assert again.options.tiny_side == 0.5 and again.options.tiny_area == 0.0
    dlg = HealthOptionsDialog(again.options)
    qtbot.addWidget(dlg)
    assert dlg.tiny_side.value() == 0.5
    dlg.set_options(replace(again.options, duplicate_iou=0.9, tiny_side=2.0))
    assert dlg.options().tiny_side == 2.0 and dlg.options().tiny_area == 0.0


def test_a_running_check_can_be_cancelled(dock: ProblemsDock, qtbot: Any) -> None:
    dock.start()
    assert dock.running and dock.run_button.text() == "Cancel"
    dock.run_button.click()
    assert not dock.running and dock.run_button.text() == "Check"
    assert dock.status.text().startswith("Check cancelled")
    qtbot.waitUntil(dock.idle, timeout=30_000)  # the worker stops at its next report


def test_unreadable_remembered_thresholds_are_the_defaults(qapp: object) -> None:
    from cocoview.model.health import DEFAULT
    from cocoview.qt.health_options import load_options
    from cocoview.qt.settings import app_settings

    s = app_settings()
    s.setValue("health/tiny_side", "lots")
    s.setValue("health/duplicate_iou", "nan")
    s.setValue("health/near_distance", "7")
    opts = load_options(s)
    assert opts.tiny_side == DEFAULT.tiny_side and opts.duplicate_iou == DEFAULT.duplicate_iou
    assert opts.near_distance == 7


def test_a_big_dataset_is_checked_in_a_child(qapp: object, qtbot: Any,
                                             planted: tuple[Path, dict[str, Any]],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Past ``MIN_ANNOTATIONS`` the check runs in a child process (the GUI thread keeps
    the GIL): the dock lists what the in-process check lists; a cancel ends the child."""
    import subprocess

    from cocoview.model import validate_process
    from cocoview.model.validate import validate_report

    ds = cocoview.open(planted[0], cache=False)
    want = validate_report(ds).problems
    monkeypatch.setattr(validate_process, "MIN_ANNOTATIONS", 0)
    procs: list[subprocess.Popen[bytes]] = []
    real = subprocess.Popen

    def popen(*a: Any, **k: Any) -> subprocess.Popen[bytes]:
        procs.append(real(*a, **k))
        return procs[-1]

    monkeypatch.setattr(subprocess, "Popen", popen)
    state = ViewerState()
    state.set_dataset(ds)
    d = ProblemsDock(state)
    qtbot.addWidget(d)
    with qtbot.waitSignal(d.finished, timeout=30_000):
        d.start()
    def children() -> list[subprocess.Popen[bytes]]:
        return [p for p in procs if "validate_process" in " ".join(map(str, p.args))]

    assert len(children()) == 1
    assert d.problems is not None and d.problems.problems == want
    # a child that never answers: only the cancel ends it
    monkeypatch.setattr(validate_process, "command", lambda: [
        sys.executable, "-c", "import time  # validate_process\ntime.sleep(600)"])
    d.start()
    qtbot.waitUntil(lambda: len(children()) == 2, timeout=30_000)
    assert children()[1].poll() is None
    d.run_button.click()  # cancel
    qtbot.waitUntil(lambda: children()[1].poll() is not None, timeout=30_000)
    qtbot.waitUntil(d.idle, timeout=30_000)
