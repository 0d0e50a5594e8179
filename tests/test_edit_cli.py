"""``cocoview edit`` (issue 17): each operation, and bad edits write nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cocoview.cli import main
from tests.test_edits import _doc


@pytest.mark.parametrize("flags,check", [
    (["--delete-annotation", "3", "4"],
     lambda d: {a["id"] for a in d["annotations"]} == {1, 2, 5, 6, 7, 8, 9}),
    (["--relabel", "4=cow"], lambda d: d["annotations"][3]["category_id"] == 3),
    (["--relabel", "4=3"], lambda d: d["annotations"][3]["category_id"] == 3),
    (["--rename-category", "cat=kitty"], lambda d: d["categories"][0]["name"] == "kitty"),
    (["--merge-category", "cat=dog"],
     lambda d: {a["category_id"] for a in d["annotations"]} == {2}
     and [c["id"] for c in d["categories"]] == [2, 3]),
    (["--delete-category", "dog"],
     lambda d: {a["category_id"] for a in d["annotations"]} == {1}),
    (["--delete-image", "2"],
     lambda d: [i["id"] for i in d["images"]] == [1, 3]
     and all(a["image_id"] != 2 for a in d["annotations"])),
])
def test_edit_each_operation(tmp_path: Path, flags: list[str], check: object) -> None:
    src = _doc(tmp_path)
    out = tmp_path / "out.json"
    assert main(["edit", str(src), "--no-cache", *flags, "--out", str(out)]) == 0
    assert check(json.loads(out.read_text()))  # type: ignore[operator]


@pytest.mark.parametrize("flags,msg", [
    (["--delete-annotation", "999"], "no annotation with id 999"),
    (["--relabel", "4=horse"], "no category named 'horse'"),
    (["--relabel", "4"], "expected A=B"),
    (["--merge-category", "cat=cat"], "into itself"),
    (["--delete-image", "42"], "no image with id 42"),
])
def test_bad_edits_write_nothing(tmp_path: Path, flags: list[str], msg: str,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    src = _doc(tmp_path)
    out = tmp_path / "out.json"
    assert main(["edit", str(src), "--no-cache", *flags, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert msg in err and "nothing written" in err and "Traceback" not in err
    assert not out.exists()


def test_edit_refuses_the_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _doc(tmp_path)
    before = src.read_bytes()
    assert main(["edit", str(src), "--no-cache", "--delete-annotation", "1",
                 "--out", str(src), "--force"]) == 2
    assert "input" in capsys.readouterr().err and src.read_bytes() == before


def test_edit_applies_a_journal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from cocoview.model.edits import DeleteAnnotation
    from cocoview.model.journal import Journal

    src = _doc(tmp_path)
    jpath = tmp_path / "j.jsonl"
    Journal(src, jpath).record(DeleteAnnotation(2))
    out = tmp_path / "out.json"
    assert main(["edit", str(src), "--no-cache", "--journal", str(jpath),
                 "--out", str(out)]) == 0
    assert 2 not in {a["id"] for a in json.loads(out.read_text())["annotations"]}
    other = tmp_path / "other.json"
    other.write_text('{"images": [], "annotations": [], "categories": []}')
    assert main(["edit", str(other), "--no-cache", "--journal", str(jpath),
                 "--out", str(tmp_path / "o2.json")]) == 2
    assert "another file" in capsys.readouterr().err
    assert not (tmp_path / "o2.json").exists()
