"""Editing in the app (issue 17): each edit a named ``QUndoCommand`` on one
``QUndoStack``, the actions that make them, the journal that keeps them across a
crash, Save As in a job, and the questions on closing and on reopening.

The edits themselves are the model's (``model/edits.py`` through the viewer model's
:meth:`~cocoview.model.viewer.ViewerModel.apply_edit`); this module only names them,
asks the user, and writes the journal off the GUI thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QAction, QUndoCommand, QUndoStack
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMenu, QMessageBox, QToolButton

from cocoview.model import edits as E
from cocoview.model.dataset import Dataset
from cocoview.model.edited import EditedView
from cocoview.model.journal import Journal, JournalError, journal_path, read
from cocoview.model.safe_write import WriteError
from cocoview.model.tags import tags_of
from cocoview.model.viewer import Item
from cocoview.qt.frames import provisional
from cocoview.qt.jobs import Jobs
from cocoview.qt.loading import PreviewDataset
from cocoview.qt.state import ViewerState

if TYPE_CHECKING:
    from cocoview.qt.main_window import MainWindow

Answer = Literal["save", "discard", "cancel"]


def edit_text(ds: Dataset, edits: Sequence[E.Edit], view: EditedView | None = None) -> str:
    """What the Edit menu calls an edit ("Delete annotation 123", "Relabel 3 annotations
    to dog")."""
    def cat(cid: int | None) -> str:
        if cid is None:
            return "?"
        try:
            return view.category_name(cid) if view is not None else ds.category(cid).name
        except KeyError:
            return str(cid)

    e, n = edits[0], len(edits)
    if isinstance(e, E.DeleteAnnotation):
        return f"Delete annotation {e.ann_id}" if n == 1 else f"Delete {n} annotations"
    if isinstance(e, E.Relabel):
        what = f"annotation {e.ann_id}" if n == 1 else f"{n} annotations"
        return f"Relabel {what} to {cat(e.category_id)}"
    if isinstance(e, E.SetCrowd):
        what = f"annotation {e.ann_id}" if n == 1 else f"{n} annotations"
        return f"Set crowd of {what} to {e.iscrowd}"
    if isinstance(e, E.RenameCategory):
        return f"Rename category {cat(e.category_id)} to {e.name}"
    if isinstance(e, E.MergeCategory):
        return f"Merge category {cat(e.source)} into {cat(e.into)}"
    if isinstance(e, E.DeleteCategory):
        return f"Delete category {cat(e.category_id)}"
    if isinstance(e, E.DeleteImage):
        return f"Delete image {e.image_id}"
    if isinstance(e, E.SetTags):
        return f"Tag image {e.image_id}: {', '.join(e.tags) or '(none)'}"
    if isinstance(e, E.SetBox):
        return f"Set box of annotation {e.ann_id}"
    if isinstance(e, E.AddAnnotation):
        return f"Add annotation {e.ann_id} ({cat(e.category_id)})"
    return type(e).__name__


class JournalWriter:
    """Appends edits to the journal in a thread of its own (each line is fsynced: the
    GUI thread does no file I/O). :meth:`wait` returns once every edit is on disk."""

    def __init__(self, src: Path, path: Path | None = None) -> None:
        self.src = src
        self.path = path or journal_path(src)  # (resolving the path reads the disk)
        self._queue: queue.Queue[tuple[str, E.Edit | None]] = queue.Queue()
        self._journal: Journal | None = None
        self.error = ""
        self._thread = threading.Thread(target=self._run, name="cocoview-journal", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            what, edit = self._queue.get()
            try:
                if what == "record" and edit is not None:
                    if self._journal is None:
                        self._journal = Journal(self.src, self.path)
                    self._journal.record(edit)
                elif what in ("discard", "close"):
                    if self._journal is not None:
                        (self._journal.discard if what == "discard" else self._journal.close)()
                        self._journal = None
                    elif what == "discard":
                        self.path.unlink(missing_ok=True)
            except OSError as exc:  # a full disk: said in the status bar, editing goes on
                self.error = f"cannot write the edit journal {self.path}: {exc}"
            finally:
                self._queue.task_done()
            if what == "close":
                return

    def record(self, edit: E.Edit) -> None:
        self._queue.put(("record", edit))

    def discard(self) -> None:
        """Remove the journal (the edits are saved, or the user discarded them)."""
        self._queue.put(("discard", None))

    def close(self) -> None:
        self._queue.put(("close", None))

    def wait(self) -> None:
        self._queue.join()


#: the largest file (annotations) whose first edit is made ready after the open: the
#: edit state's copies and lookups take ~40 B per annotation
WARM_LIMIT = 4_000_000


def _prepare(ds: Dataset) -> tuple[EditedView, Path, Path]:
    """The edit state of ``ds`` with its lookups made, and where its journal goes (a
    worker's: the first edit would make them on the GUI thread, ~60 ms at train2017)."""
    src = ds.files[0].path
    return EditedView(ds).warm(), src, journal_path(src)


class EditCommand(QUndoCommand):
    """Some edits made together (one user action); undo applies their inverses."""

    def __init__(self, ctl: EditController, edits: list[E.Edit], inverses: list[E.Edit],
                 text: str) -> None:
        super().__init__(text)
        self.ctl, self.edits, self.inverses = ctl, edits, inverses
        self._first = True  # pushed after being applied: the first redo does nothing

    def redo(self) -> None:
        if self._first:
            self._first = False
            return
        self.inverses = self.ctl.apply_all(self.edits)

    def undo(self) -> None:
        self.ctl.apply_all(list(reversed(self.inverses)))


class EditController(QObject):
    """The window's edits: the undo stack, the journal, Save As, the questions."""

    message = Signal(str)
    saved = Signal(object)  # the Path written

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.state: ViewerState = window.state
        self.stack = QUndoStack(self)
        self.jobs = Jobs(self)
        self.journal: JournalWriter | None = None
        self._journal_ready: tuple[Path, Path] | None = None  # (file, its journal)
        self.saving = False
        self._after_save: Callable[[], object] | None = None  # what a Save As was for
        self._saving_to: Path | None = None
        self._cancel: QToolButton | None = None
        self.stack.cleanChanged.connect(self._clean_changed)
        self._actions: dict[str, QAction] = {}
        self.state.datasetChanged.connect(self._dataset_changed)
        self.state.edited.connect(self._follow_edit)
        from cocoview.qt.canvas_edits import CanvasEdits

        self.canvas_edits = CanvasEdits(self)  # dragged boxes, the review's fixes

    # ----- the questions (tests replace these) ---------------------------
    def ask_category(self, title: str, exclude: int | None = None) -> int | None:
        view = self.state.model.edits
        ds = self.state.dataset
        if ds is None:
            return None
        gone = view.gone_categories() if view is not None else set()
        cats = [c for c in ds.categories if c.id not in gone and c.id != exclude]
        names = [f"{view.category_name(c.id) if view else c.name}  (id {c.id})" for c in cats]
        item, ok = QInputDialog.getItem(self.window, title, "Category:", names, 0, False)
        return cats[names.index(item)].id if ok and item in names else None

    def ask_text(self, title: str, label: str, text: str = "") -> str | None:
        value, ok = QInputDialog.getText(self.window, title, label, text=text)
        return value if ok else None

    def confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self.window, title, text)
        return answer == QMessageBox.StandardButton.Yes

    def ask_unsaved(self) -> Answer:
        box = QMessageBox(QMessageBox.Icon.Warning, "Unsaved edits",
                          f"{self._unsaved_text()} Save them before closing?",
                          QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                          | QMessageBox.StandardButton.Cancel, self.window)
        b = box.exec()
        return {QMessageBox.StandardButton.Save: "save",
                QMessageBox.StandardButton.Discard: "discard"}.get(
            QMessageBox.StandardButton(b), "cancel")  # type: ignore[return-value]

    def ask_restore(self, n: int, path: Path) -> bool:
        return self.confirm("Restore unsaved edits",
                            f"{n} edit{'s' if n != 1 else ''} of {path.name} were not saved "
                            "(the app was closed without saving, or it crashed). Restore them?")

    def ask_save_path(self) -> tuple[Path, bool] | None:
        """(where, overwrite the original confirmed) or None."""
        ds = self.state.dataset
        if ds is None:
            return None
        src = ds.files[0].path
        start = str(src.with_name(src.stem.removesuffix(".json") + "_edited.json"))
        name, _ = QFileDialog.getSaveFileName(self.window, "Save As", start,
                                              "COCO JSON (*.json)")
        if not name:
            return None
        out = Path(name)
        if out.resolve() == src.resolve():
            box = QMessageBox(QMessageBox.Icon.Warning, "Overwrite original",
                              f"Write over the original {src.name}? A backup is kept as "
                              f"{src.name}.bak.", QMessageBox.StandardButton.Cancel,
                              self.window)
            over = box.addButton("Overwrite original", QMessageBox.ButtonRole.AcceptRole)
            box.exec()
            if box.clickedButton() is not over:
                return None
            return out, True
        return out, False

    # ----- applying -------------------------------------------------------
    def apply_all(self, edits: list[E.Edit]) -> list[E.Edit]:
        """Apply ``edits`` in order; all or none (an EditError rolls back the applied).
        A selected added annotation stays selected when it is still there after them
        (a relabel adds it again; an addition taken back renumbers the added rows)."""
        chosen = self._selected_added()
        try:
            return self._apply_all(edits)
        finally:
            if chosen:
                self._select_added(chosen)

    def _selected_added(self) -> set[int]:
        """The ids of the selected annotations that edits added."""
        view, ds = self.state.view, self.state.dataset
        if view is None or ds is None or view is ds:
            return set()
        n = len(ds.anns)
        return {int(view.anns.id[it.row]) for it in self.state.model.selection
                if it.kind == "annotation" and n <= it.row < len(view.anns)}

    def _select_added(self, ids: set[int]) -> None:
        view, ds = self.state.view, self.state.dataset
        if view is None or ds is None:
            return
        n = len(ds.anns)
        rows = {r for r in range(n, len(view.anns)) if int(view.anns.id[r]) in ids}
        sel = {it for it in self.state.model.selection
               if not (it.kind == "annotation" and it.row >= n)}
        self.state.model.set_selection(sel | {Item("annotation", r) for r in rows})

    def _apply_all(self, edits: list[E.Edit]) -> list[E.Edit]:
        done: list[E.Edit] = []
        try:
            for e in edits:
                done.append(self.state.model.apply_edit(e))
                if self.journal is not None:
                    self.journal.record(e)
        except E.EditError:
            for inv in reversed(done):
                self.state.model.apply_edit(inv)
                if self.journal is not None:
                    self.journal.record(inv)
            raise
        return done

    def edit(self, edits: list[E.Edit], text: str = "") -> bool:
        """One user action: applied, named on the undo stack; a bad edit is a message
        (and nothing changes)."""
        ds = self.state.dataset
        if ds is None or not edits:
            return False
        if isinstance(ds, PreviewDataset):
            self._say("The annotations are still being read: edit once they are in")
            return False
        if self.saving:
            self._say("Saving… edits wait until the file is written")
            return False
        if self.journal is None:
            src = ds.files[0].path
            ready = self._journal_ready
            self.journal = JournalWriter(src, ready[1] if ready and ready[0] == src else None)
        name = text or edit_text(ds, edits, self.state.model.edits)
        try:
            edits = self._on_added(edits)
            inverses = self.apply_all(edits)
        except E.EditError as exc:
            self._refuse(str(exc))
            return False
        self.stack.push(EditCommand(self, edits, inverses, name))
        self._say(name)
        return True

    def _on_added(self, edits: list[E.Edit]) -> list[E.Edit]:
        """An edit of an annotation an edit added, as edits of the addition: deleting
        it takes the addition back, relabelling it adds it again with the category (its
        id kept). EditError for what an added annotation has not (a crowd flag)."""
        view = self.state.model.edits
        added = view.layer.added if view is not None else {}
        if not added:
            return edits
        out: list[E.Edit] = []
        for e in edits:
            a = added.get(int(e.ann_id)) if isinstance(
                e, (E.DeleteAnnotation, E.Relabel, E.SetCrowd, E.SetBox)) else None
            if a is None:
                out.append(e)
            elif isinstance(e, E.DeleteAnnotation) and not e.restore:
                out.append(replace(a, remove=True))
            elif isinstance(e, E.Relabel) and e.category_id is not None:
                out += [replace(a, remove=True), replace(a, category_id=e.category_id)]
            else:
                raise E.EditError(f"annotation {a.ann_id} was added by an edit: it can be "
                                  "deleted or relabelled, and Undo takes it back")
        return out

    def _refuse(self, why: str) -> None:
        self._say(f"Not done: {why}")
        box = QMessageBox(QMessageBox.Icon.Warning, "Edit not possible", why,
                          parent=self.window)
        box.setObjectName("edit_error")
        box.open()

    def _say(self, text: str) -> None:
        self.message.emit(text)

    def _follow_edit(self, e: object) -> None:
        """The canvas is made again for the images the edit touched (one image for an
        annotation edit, every image for a category edit)."""
        ds = self.state.dataset
        view = self.state.view
        if ds is None or view is None:
            return
        ids: list[int] | None
        if isinstance(e, E.AddAnnotation):
            ids = [int(e.image_id)]  # (the selection follows in apply_all)
        elif isinstance(e, (E.DeleteAnnotation, E.Relabel, E.SetCrowd, E.SetBox)):
            r = int(ds.ann_image_row[ds.ann_row(e.ann_id)])
            ids = [int(ds.image_ids[r])] if r >= 0 else []
            sel = self.state.model.selection
            if isinstance(e, E.DeleteAnnotation) and not e.restore:
                row = ds.ann_row(e.ann_id)
                self.state.model.set_selection({it for it in sel
                                                if not (it.kind == "annotation"
                                                        and it.row == row)})
        elif isinstance(e, E.SetTags):
            return  # a tag changes nothing drawn
        elif isinstance(e, E.DeleteImage):
            ids = [int(e.image_id)]
        else:
            ids = None
        self.window.frames.set_view(view, ids)
        self._show_at_once(e, view)

    def _show_at_once(self, e: object, view: Dataset) -> None:
        """The shown image's outlines, boxes and labels as the edit makes them, now (its
        masks' fill, and an added annotation's outline, follow with the worker's
        frame)."""
        canvas = self.window.canvas
        frame = canvas.frame
        if frame is None or frame.image_id != self.state.current_image or \
                isinstance(e, (E.SetTags, E.DeleteImage)):
            return
        shown = provisional(frame, view)
        if shown is not None:
            canvas.show_frame(shown)

    # ----- the actions ------------------------------------------------------
    def selected_annotations(self) -> list[int]:
        ds = self.state.view  # an added annotation's row is after the file's
        if ds is None:
            return []
        rows = sorted(it.row for it in self.state.model.selection if it.kind == "annotation")
        return [int(ds.anns.id[r]) for r in rows if 0 <= r < len(ds.anns)]

    def delete_selected(self) -> None:
        ids = self.selected_annotations()
        if not ids:
            self._say("Select an annotation first (click it)")
            return
        self.edit([E.DeleteAnnotation(a) for a in ids])

    def relabel_selected(self) -> None:
        ids = self.selected_annotations()
        if not ids:
            self._say("Select an annotation first (click it)")
            return
        cid = self.ask_category("Change category")
        if cid is not None:
            self.edit([E.Relabel(a, cid) for a in ids])

    def toggle_crowd(self) -> None:
        ids = self.selected_annotations()
        ds = self.state.view
        if not ids or ds is None:
            self._say("Select an annotation first (click it)")
            return
        now = int(ds.anns.iscrowd[ds.ann_row(ids[0])])
        self.edit([E.SetCrowd(a, 0 if now else 1) for a in ids])

    def delete_image(self) -> None:
        iid = self.state.current_image
        if iid < 0:
            return
        self.edit([E.DeleteImage(iid)])

    def tag_image(self) -> None:
        iid = self.state.current_image
        view = self.state.view
        if iid < 0 or view is None:
            return
        now = tags_of(view, iid)  # the file's tags too (a saved file keeps them)
        text = self.ask_text("Tag image", "Tags (separated by commas):", ", ".join(now))
        if text is None:
            return
        tags = tuple(dict.fromkeys(t.strip() for t in text.split(",") if t.strip()))
        self.edit([E.SetTags(iid, tags)])

    def rename_category(self, cid: int) -> None:
        view = self.state.model.edits
        ds = self.state.dataset
        if ds is None:
            return
        old = view.category_name(cid) if view is not None else ds.category(cid).name
        name = self.ask_text("Rename category", f"New name of {old}:", old)
        if name is not None and name != old:
            self.edit([E.RenameCategory(cid, name.strip() or name)])

    def merge_category(self, cid: int) -> None:
        into = self.ask_category("Merge into…")
        if into is not None:
            self.edit([E.MergeCategory(cid, into)])

    def delete_category(self, cid: int) -> None:
        view = self.state.view
        if view is None:
            return
        k = next(k for k, c in enumerate(view.categories) if c.id == cid)
        n = int(view.category_counts()[0][k])
        name = view.categories[k].name
        if self.confirm("Delete category", f"Delete the category {name} and its {n:,} "
                        f"annotation{'s' if n != 1 else ''}?"):
            self.edit([E.DeleteCategory(cid)])

    def extend_category_menu(self, menu: QMenu, cid: int | None) -> None:
        if cid is None or self.state.dataset is None:
            return
        menu.addSeparator()
        menu.addAction("Rename…", partial(self.rename_category, cid)).setObjectName(
            "category_rename")
        menu.addAction("Merge into…", partial(self.merge_category, cid)).setObjectName(
            "category_merge")
        menu.addAction("Delete…", partial(self.delete_category, cid)).setObjectName(
            "category_delete")

    def handlers(self) -> dict[str, Callable[[], object]]:
        return {"undo": self.stack.undo, "redo": self.stack.redo,
                "delete_annotation": self.delete_selected, "relabel": self.relabel_selected,
                "toggle_crowd": self.toggle_crowd, "delete_image": self.delete_image,
                "tag_image": self.tag_image, "save_as": self.save_as_dialog,
                **self.canvas_edits.handlers()}

    def attach(self, actions: dict[str, QAction]) -> None:
        """Keep the Undo/Redo actions' names and enabled state with the stack."""
        self._actions = actions
        self.stack.indexChanged.connect(self._sync)
        self._sync()

    def _clean_changed(self, clean: bool) -> None:
        self.window.setWindowModified(not clean)

    def _sync(self, _index: int = 0) -> None:
        undo, redo = self._actions["undo"], self._actions["redo"]
        u, r = self.stack.undoText(), self.stack.redoText()
        undo.setText(f"&Undo {u}" if u else "&Undo")
        redo.setText(f"&Redo {r}" if r else "&Redo")
        undo.setEnabled(self.stack.canUndo())
        redo.setEnabled(self.stack.canRedo())

    # ----- open / close -------------------------------------------------------
    @property
    def dirty(self) -> bool:
        return not self.stack.isClean()

    def _unsaved_text(self) -> str:
        n = self.stack.index() - max(self.stack.cleanIndex(), 0)
        return f"{abs(n)} unsaved edit{'s' if abs(n) != 1 else ''}."

    def _dataset_changed(self) -> None:
        if self.journal is not None:
            if not self.dirty:
                self.journal.discard()
            self.journal.close()
            self.journal = None
        self.stack.clear()
        self.window.setWindowModified(False)
        ds = self.state.dataset
        self._journal_ready = None
        if ds is not None and not isinstance(ds, PreviewDataset) and ds.files \
                and len(ds.anns) <= WARM_LIMIT:
            self.jobs.submit(ds, _prepare, self._prepared, lambda _exc: None,
                             channel="prepare", priority=-1)
        if ds is not None and len(ds.files) == 1 and not isinstance(ds, PreviewDataset) \
                and journal_path(ds.files[0].path).exists():
            QTimer.singleShot(0, partial(self.offer_restore, ds))

    def _prepared(self, ready: tuple[EditedView, Path, Path]) -> None:
        view, src, path = ready
        self.state.model.prepare_edits(view)
        self._journal_ready = (src, path)

    def offer_restore(self, ds: Dataset) -> None:
        """A journal of unsaved edits exists for the file just opened: restore them?"""
        if ds is not self.state.dataset:
            return
        src = ds.files[0].path
        path = journal_path(src)
        try:
            edits = read(path, src)
        except JournalError as exc:
            stale = path.with_name(path.name + ".stale")
            path.replace(stale)
            self._say(f"An edit journal was set aside ({exc}); kept as {stale}")
            return
        if not edits:
            path.unlink(missing_ok=True)
            return
        if not self.ask_restore(len(edits), src):
            path.unlink(missing_ok=True)
            self._say("The unsaved edits were discarded")
            return
        inverses: list[E.Edit] = []
        try:
            for e in edits:
                inverses.append(self.state.model.apply_edit(e))
        except E.EditError as exc:  # all or none: the applied ones are undone
            for inv in reversed(inverses):
                self.state.model.apply_edit(inv)
            stale = path.with_name(path.name + ".stale")
            path.replace(stale)
            self._refuse(f"The unsaved edits of {src.name} could not be restored ({exc}); "
                         f"nothing was changed. The journal is kept as {stale}")
            return
        self.journal = JournalWriter(src)  # appends to the journal read
        n = len(edits)
        self.stack.push(EditCommand(self, edits, inverses,
                                    f"Restore {n} unsaved edit{'s' if n != 1 else ''}"))
        self._say(f"Restored {n} unsaved edit{'s' if n != 1 else ''}")

    def may_close(self) -> bool:
        """Closing the window: True to go on (unsaved edits: Save / Discard / Cancel)."""
        return self.may_leave(self.window.close)

    def may_leave(self, then: Callable[[], object]) -> bool:
        """Leaving the edited dataset (closing the window or the dataset, opening
        another): True to go on now. With unsaved edits it asks Save / Discard / Cancel;
        Save runs Save As… and ``then`` once the file is written."""
        if self.saving:
            self._after_save = then
            return False
        if not self.dirty:
            self._drop_journal()
            return True
        answer = self.ask_unsaved()
        if answer == "cancel":
            return False
        if answer == "discard":
            self._drop_journal()
            return True
        if self.save_as_dialog():
            self._after_save = then
        return False

    def _drop_journal(self) -> None:
        if self.journal is not None:
            self.journal.discard()
            self.journal.close()
            self.journal = None

    def shutdown(self) -> None:
        self.canvas_edits.shutdown()
        self.jobs.cancel()
        self.jobs.wait(10000)
        if self.journal is not None:
            self.journal.close()
            self.journal.wait()

    # ----- Save As ------------------------------------------------------------
    def save_as_dialog(self) -> bool:
        """File → Save As…: where, then the write in a job. True if a write started."""
        if self.state.dataset is None or self.saving:
            return False
        where = self.ask_save_path()
        if where is None:
            return False
        return self.save_as(*where)

    def save_as(self, out: Path, overwrite_input: bool = False) -> bool:
        ds = self.state.dataset
        if ds is None:
            return False
        edits = self.state.model.edits
        layer = _snapshot(edits.layer) if edits is not None else E.EditLayer(ds)
        self.saving = True
        self._saving_to = out
        self.window.progress.setRange(0, 1000)
        self.window.progress.setValue(0)
        self.window.progress.setFormat(f"Saving {out.name}… %p%")
        self.window.progress.setVisible(True)
        self._cancel_button().setVisible(True)
        n = len(layer.done)
        self.jobs.submit(ds, partial(_save, layer=layer, out=out, overwrite=overwrite_input),
                         partial(self._saved, n, overwrite_input), self._save_failed,
                         channel="save",
                         on_progress=self._progress)
        return True

    def _cancel_button(self) -> QToolButton:
        """The status bar's Cancel of a Save As (made at the first save)."""
        if self._cancel is None:
            self._cancel = QToolButton(self.window)
            self._cancel.setText("Cancel")
            self._cancel.setObjectName("cancel_save")
            self._cancel.setToolTip("Stop saving: nothing is written")
            self._cancel.clicked.connect(self.cancel_save)
            self.window.statusBar().addWidget(self._cancel)
        return self._cancel

    def cancel_save(self) -> None:
        """Stop the Save As under way: the job stops at its next report and removes its
        temp file (and the backup it began); the file asked for is not written."""
        if not self.saving:
            return
        self.jobs.cancel("save")
        self._save_ended()
        self._after_save = None
        out = self._saving_to
        said = f"Save As cancelled: {out.name if out else 'the file'} was not written"
        self.window.statusBar().showMessage(said, 15000)
        self._say(said)

    def _save_ended(self) -> None:
        self.saving = False
        self.window.progress.setRange(0, 1000)
        self.window.progress.setVisible(False)
        if self._cancel is not None:
            self._cancel.setVisible(False)

    def _progress(self, fraction: float) -> None:
        bar = self.window.progress
        if fraction < 0:
            bar.setRange(0, 0)  # busy
        else:
            bar.setRange(0, 1000)
            bar.setValue(int(fraction * 1000))

    def _saved(self, n: int, overwrote: bool, out: Path) -> None:
        self._save_ended()
        self.stack.setClean()
        if self.journal is not None and overwrote:
            self.journal.discard()  # the file it was of is gone
        backup = f" (the original kept as {out.name}.bak)" if overwrote else ""
        said = f"Saved {n:,} edit{'s' if n != 1 else ''} to {out}{backup}"
        self.window.reveal.show_for([out], said)
        self.window.statusBar().showMessage(said, 15000)
        self.saved.emit(out)
        then, self._after_save = self._after_save, None
        if then is not None:
            QTimer.singleShot(0, then)

    def _save_failed(self, exc: Exception) -> None:
        self._save_ended()
        self._after_save = None
        why = str(exc) if isinstance(exc, (WriteError, OSError)) else \
            f"{type(exc).__name__}: {exc}"
        self.window.statusBar().showMessage(f"Save As failed: {why}", 15000)
        box = QMessageBox(QMessageBox.Icon.Critical, "Save As failed", why,
                          parent=self.window)
        box.setObjectName("save_error")
        box.open()


def _snapshot(layer: E.EditLayer) -> E.EditLayer:
    """A copy the save job reads while the user may go on editing."""
    return E.EditLayer(layer.ds, set(layer.deleted_anns), dict(layer.ann_category),
                       dict(layer.ann_crowd), dict(layer.cat_names), dict(layer.merged),
                       set(layer.deleted_cats), set(layer.deleted_images), dict(layer.tags),
                       list(layer.done), ann_bbox=dict(layer.ann_bbox),
                       added=dict(layer.added))


def _save(ds: Dataset, report: Callable[[float], None], layer: E.EditLayer, out: Path,
          overwrite: bool) -> Path:
    report(0.0)
    return E.save_as(layer, out, overwrite_input=overwrite, report=report)


__all__ = ["EditCommand", "EditController", "JournalWriter", "edit_text"]
