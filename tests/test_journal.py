"""The edit journal (issue 17): restore after the process is killed after an edit; a
journal of another file is refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cocoview.model import dataset
from cocoview.model.edits import DeleteAnnotation, EditLayer, MergeCategory, Relabel, SetTags
from cocoview.model.journal import Journal, JournalError, read, restore
from tests.test_edits import _doc

CHILD = """
import os, signal, sys
from pathlib import Path
from cocoview.model import dataset
from cocoview.model.edits import DeleteAnnotation, EditLayer, Relabel
from cocoview.model.journal import Journal
src, jpath = Path(sys.argv[1]), Path(sys.argv[2])
layer = EditLayer(dataset.open(src, cache=False))
j = Journal(src, jpath)
for e in (DeleteAnnotation(3), Relabel(4, 3)):
    layer.apply(e)
    j.record(e)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_restore_after_kill(tmp_path: Path) -> None:
    src = _doc(tmp_path)
    jpath = tmp_path / "j.jsonl"
    proc = subprocess.run([sys.executable, "-c", CHILD, str(src), str(jpath)], timeout=60)
    assert proc.returncode != 0  # killed
    layer = EditLayer(dataset.open(src, cache=False))
    assert restore(layer, jpath) == 2
    assert layer.is_deleted(3) and layer.category_of(4) == 3


def test_journal_round_trip_and_cut_last_line(tmp_path: Path) -> None:
    src = _doc(tmp_path)
    jpath = tmp_path / "j.jsonl"
    j = Journal(src, jpath)
    edits = [DeleteAnnotation(1), Relabel(2, None), SetTags(1, ("a", "b")),
             MergeCategory(2, None, (1, 3))]  # an undo of a merge that carried others
    for e in edits:
        j.record(e)
    j.close()
    with jpath.open("a") as fh:
        fh.write('{"op": "DeleteAnn')  # power cut mid-line
    assert read(jpath, src) == edits
    old = '{"op": "MergeCategory", "source": 2, "into": 1}'  # written before "chained"
    from cocoview.model.journal import decode
    assert decode(old) == MergeCategory(2, 1)


def test_journal_of_another_file_is_refused(tmp_path: Path) -> None:
    a = _doc(tmp_path)
    b = tmp_path / "other.json"
    doc = json.loads(a.read_text())
    doc["images"] = doc["images"][:1]
    b.write_text(json.dumps(doc))
    jpath = tmp_path / "j.jsonl"
    Journal(a, jpath).record(DeleteAnnotation(1))
    with pytest.raises(JournalError, match="another file"):
        read(jpath, b)
