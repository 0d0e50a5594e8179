"""Image tags (issue 17): an edit with its inverse, written by Save As in the image's
``"tags"`` only, read back from a saved file, an image filter and its choices, the CLI
``edit --tag`` and ``export --tag / --untagged``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cocoview.cli import main
from cocoview.model import dataset
from cocoview.model.edited import EditedView
from cocoview.model.edits import EditError, EditLayer, SetTags, save_as
from cocoview.model.filters import CRITERIA, ImageFilter, filter_images, tag_choices
from cocoview.model.tags import UNTAGGED, file_tags, tag_counts
from tests.test_edits import _doc


def test_tags_saved_in_the_image_only(tmp_path: Path) -> None:
    src = _doc(tmp_path)
    layer = EditLayer(dataset.open(src, cache=False))
    inverse = layer.apply(SetTags(2, ("blurry", "dup", "blurry")))
    assert layer.tags_of(2) == ("blurry", "dup") and inverse == SetTags(2, ())
    out = save_as(layer, tmp_path / "out.json")
    got, want = json.loads(out.read_text()), json.loads(src.read_text())
    want["images"][1]["tags"] = ["blurry", "dup"]
    assert got == want
    assert [list(i) for i in got["images"]] == [list(i) for i in want["images"]]
    # the other images are the input's bytes
    f = layer.ds.files[0]
    text = out.read_bytes()
    for r in (0, 2):
        off, n = int(f.images.rec_off[r]), int(f.images.rec_len[r])
        assert bytes(f.data[off : off + n]) in text
    layer.apply(inverse)
    assert layer.tags_of(2) == () and not layer.tags


def test_saved_tags_come_back_and_can_be_removed(tmp_path: Path) -> None:
    layer = EditLayer(dataset.open(_doc(tmp_path), cache=False))
    layer.apply(SetTags(1, ("a",)))
    layer.apply(SetTags(3, ("a", "b")))
    saved = save_as(layer, tmp_path / "tagged.json")
    ds = dataset.open(saved, cache=False)
    assert file_tags(ds) == {1: ("a",), 3: ("a", "b")}
    again = EditLayer(ds)
    assert again.tags_of(3) == ("a", "b") and not again.tags
    assert again.apply(SetTags(3, ("a", "b"))) == SetTags(3, ("a", "b"))
    assert not again.tags  # as in the file: no edit kept
    inverse = again.apply(SetTags(3, ()))
    assert again.tags == {3: ()} and inverse == SetTags(3, ("a", "b"))
    out = json.loads(save_as(again, tmp_path / "untagged.json").read_text())
    assert "tags" not in out["images"][2] and out["images"][0]["tags"] == ["a"]
    again.apply(inverse)
    assert not again.tags


@pytest.mark.parametrize("tags,msg", [(("a,b",), "comma"), (("",), "empty"),
                                      ((" x",), "spaces")])
def test_bad_tags(tmp_path: Path, tags: tuple[str, ...], msg: str) -> None:
    layer = EditLayer(dataset.open(_doc(tmp_path), cache=False))
    with pytest.raises(EditError, match=msg):
        layer.apply(SetTags(1, tags))
    with pytest.raises(EditError, match="no image with id 42"):
        layer.apply(SetTags(42, ("x",)))
    assert not layer.tags


def test_tag_filter_and_choices_follow_the_edits(tmp_path: Path) -> None:
    ds = dataset.open(_doc(tmp_path), cache=False)
    view = EditedView(ds)
    assert tag_choices(view.dataset()) == (("any", None),)  # nothing tagged: one choice
    view.apply(SetTags(1, ("a",)))
    view.apply(SetTags(3, ("a", "b")))
    v = view.dataset()
    assert tag_counts(v) == {"a": 2, "b": 1}
    assert [c[1] for c in tag_choices(v)] == [None, UNTAGGED, "a", "b"]
    assert view.filter(ImageFilter(tag="a")).tolist() == [1, 3]
    assert view.filter(ImageFilter(tag="b")).tolist() == [3]
    assert view.filter(ImageFilter(tag=UNTAGGED)).tolist() == [2]
    assert filter_images(ds, ImageFilter(tag=UNTAGGED)).tolist() == [1, 2, 3]  # the file's
    crit = next(c for c in CRITERIA if c.name == "tag")
    assert crit.describe(ImageFilter(tag="a")) == "tagged 'a'"
    assert ImageFilter(tag=UNTAGGED).describe() == "untagged"
    inverse = view.apply(SetTags(3, ()))
    assert view.filter(ImageFilter(tag="b")).tolist() == []
    view.apply(inverse)
    assert view.filter(ImageFilter(tag="b")).tolist() == [3]


def test_file_tags_ignore_the_word_elsewhere(tmp_path: Path) -> None:
    p = tmp_path / "t.json"
    p.write_text(json.dumps({
        "images": [{"id": 1, "file_name": '"tags".jpg', "width": 2, "height": 2},
                   {"id": 2, "file_name": "b.jpg", "width": 2, "height": 2,
                    "tags": ["ok", 3, "a,b", "ok"]},
                   {"id": 3, "file_name": "c.jpg", "width": 2, "height": 2, "tags": "x"}],
        "annotations": [], "categories": [], "info": {"tags": ["not an image's"]}}))
    ds = dataset.open(p, cache=False)
    assert file_tags(ds) == {2: ("ok",)}
    mask = np.asarray(filter_images(ds, ImageFilter(tag="ok")))
    assert mask.tolist() == [2]


def test_cli_edit_tag_and_export_tag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _doc(tmp_path)
    out = tmp_path / "out.json"
    assert main(["edit", str(src), "--no-cache", "--tag", "2=blurry", "2=dup", "3=dup",
                 "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert [i.get("tags") for i in doc["images"]] == [None, ["blurry", "dup"], ["dup"]]
    ids = tmp_path / "ids.txt"
    assert main(["export", str(out), "--no-cache", "--tag", "dup", "--out", str(ids)]) == 0
    assert ids.read_text().split() == ["2", "3"]
    assert main(["export", str(out), "--no-cache", "--untagged", "--out", str(ids),
                 "--force"]) == 0
    assert ids.read_text().split() == ["1"]
    capsys.readouterr()
    assert main(["export", str(out), "--no-cache", "--untagged", "--tag", "x", "--out",
                 str(tmp_path / "x.txt")]) == 2
    assert "exclude each other" in capsys.readouterr().err


@pytest.mark.parametrize("flags,msg", [(["--tag", "2=a,b"], "comma"),
                                       (["--tag", "42=x"], "no image with id 42"),
                                       (["--tag", "x=y"], "not an image id")])
def test_cli_bad_tags_write_nothing(tmp_path: Path, flags: list[str], msg: str,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.json"
    assert main(["edit", str(_doc(tmp_path)), "--no-cache", *flags, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert msg in err and "nothing written" in err and not out.exists()


def test_cli_replays_a_journal_with_tags(tmp_path: Path) -> None:
    from cocoview.model.journal import Journal

    src = _doc(tmp_path)
    jpath = tmp_path / "j.jsonl"
    j = Journal(src, jpath)
    j.record(SetTags(1, ("x", "y")))
    j.record(SetTags(1, ("y",)))  # the app's later edit of the same image wins
    j.close()
    out = tmp_path / "out.json"
    assert main(["edit", str(src), "--no-cache", "--journal", str(jpath), "--tag", "1=z",
                 "--out", str(out)]) == 0
    assert json.loads(out.read_text())["images"][0]["tags"] == ["y", "z"]
