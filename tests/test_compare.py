"""model/compare.py: model A vs model B (issue 14) — one definition of which verdicts
differ, shared by ``cocoview eval``, the image filter and ``cocoview export --compare``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import cocoview
from cocoview.cli import main
from cocoview.model.compare import Comparison
from cocoview.model.filters import FilterError, FilterExtras, ImageFilter, filter_images
from cocoview.model.review import Review
from tests.test_review_filters import _det, three_images


def two_models(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A: ``three_images``'s results. B: nothing on image 1 (its cat missed), the dog of
    image 2 found (0.7) and its cat at 0.9 (A: 0.35), image 3 as A."""
    g, a = three_images(tmp_path)
    b = tmp_path / "b.json"
    b.write_text(json.dumps([
        _det(2, 2, [10, 10, 40, 40], 0.7), _det(2, 1, [100, 100, 40, 40], 0.9),
        _det(3, 1, [11, 10, 40, 40], 0.95), _det(3, 1, [150, 150, 20, 20], 0.6),
        _det(3, 1, [100, 10, 20, 20], 0.2)]))
    return g, a, b


@pytest.fixture
def comp(tmp_path: Path) -> tuple[Any, Comparison]:
    g, a, b = two_models(tmp_path)
    ds = cocoview.open(g, results=a, cache=False)
    return ds, Comparison(ds.evaluate(), ds.evaluate(b))


def test_which_ground_truth_only_one_model_found(comp: tuple[Any, Comparison]) -> None:
    _ds, c = comp
    ids = c.a.gt.ann_id
    assert ids[c.gt_only("a")].tolist() == [1]  # image 1's cat: B has nothing there
    assert ids[c.gt_only("b")].tolist() == [2]  # image 2's dog
    assert c.image_ids("a").tolist() == [1]
    assert c.image_ids("b").tolist() == [2]
    assert c.image_ids("differ").tolist() == [1, 2]  # image 3: the same counts
    # the operating point: A finds image 2's cat only at 0.35
    assert ids[c.gt_only("b", 0.5)].tolist() == [2, 3]
    assert c.image_ids("differ", 0.9).tolist() == [1, 2]  # image 3: both keep its TP only
    # the oracle: the verdict tables each evaluation writes (``--ground-truth``)
    ga, gb = c.a.ground_truth_table(), c.b.ground_truth_table()
    only_a = (ga["status"] == "matched") & (gb["status"] == "missed")
    assert ga["id"][only_a].tolist() == ids[c.gt_only("a")].tolist()
    pa, pb = c.a.per_image_table(), c.b.per_image_table()
    differ = (pa["tp"] != pb["tp"]) | (pa["fp"] != pb["fp"])
    assert sorted(pa["image_id"][differ].tolist()) == c.image_ids("differ").tolist()


def test_side_by_side_numbers(comp: tuple[Any, Comparison]) -> None:
    _ds, c = comp
    rows = c.stats_rows()
    assert len(rows) == 12
    assert [r[1] for r in rows] == c.a.stats.tolist()
    assert [r[2] for r in rows] == c.b.stats.tolist()
    assert [r[0] for r in rows][:3] == ["AP", "AP50", "AP75"] and rows[8][0] == "AR@100"
    # the names follow pycocotools' summary lines
    assert "IoU=0.50 " in c.a.summary_lines()[1] and "maxDets=100" in c.a.summary_lines()[8]
    lines = c.summary_lines()
    assert len(lines) == 16 and "Δ (B−A)" in lines[0]
    d = c.b.stats[1] - c.a.stats[1]
    assert lines[2].split() == ["AP50", f"{c.a.stats[1]:.3f}", f"{c.b.stats[1]:.3f}",
                                f"{d:+.3f}"]
    assert lines[-2:] == ["A: A", "B: B"]


def test_not_the_same_ground_truth_is_refused(tmp_path: Path,
                                              comp: tuple[Any, Comparison]) -> None:
    _ds, c = comp
    g = tmp_path / "gt.json"
    doc = json.loads(g.read_text())
    doc["annotations"] = doc["annotations"][1:]
    (tmp_path / "other.json").write_text(json.dumps(doc))
    other = cocoview.open(tmp_path / "other.json", cache=False)
    with pytest.raises(ValueError, match="same ground truth"):
        Comparison(c.a, other.evaluate(tmp_path / "b.json"))


def test_the_filter_criterion(comp: tuple[Any, Comparison]) -> None:
    ds, c = comp
    extras = FilterExtras(review=Review(ds, c.a), comparison=c)
    assert filter_images(ds, ImageFilter(compare="a"), extras).tolist() == [1]
    assert filter_images(ds, ImageFilter(compare="b"), extras).tolist() == [2]
    assert filter_images(ds, ImageFilter(compare="differ"), extras).tolist() == [1, 2]
    extras.min_score = 0.5
    assert filter_images(ds, ImageFilter(compare="b"), extras).tolist() == [2]
    assert ImageFilter(compare="a").describe(ds) == "A right, B wrong"
    # the app without a second file: no image; the CLI without one: a clear error
    assert filter_images(ds, ImageFilter(compare="a"),
                         FilterExtras(review=Review(ds, c.a))).tolist() == []
    with pytest.raises(FilterError, match="two results files"):
        filter_images(ds, ImageFilter(compare="a"), FilterExtras())


def test_export_compare_and_eval_agree(tmp_path: Path, capsys: Any) -> None:
    g, a, b = two_models(tmp_path)
    for kind, want in (("a", ["1"]), ("b", ["2"]), ("differ", ["1", "2"])):
        out = tmp_path / f"{kind}.txt"
        assert main(["export", str(g), "--results", str(a), "--results", str(b),
                     "--compare", kind, "--out", str(out), "--no-cache"]) == 0
        assert out.read_text().split() == want
    out = tmp_path / "b05.txt"
    assert main(["export", str(g), "--results", str(a), "--results", str(b), "--compare",
                 "b", "--min-score", "0.5", "--has-fp", "any", "--out", str(out),
                 "--no-cache"]) == 0
    assert out.read_text().split() == []  # image 2 has no FP of A at 0.5
    capsys.readouterr()
    assert main(["eval", str(g), "--results", str(a), "--results", str(b), "--json",
                 "--no-cache"]) == 0
    diff = json.loads(capsys.readouterr().out)["differences"]
    assert diff["gt_matched_only_by_a"] == [1] and diff["gt_matched_only_by_b"] == [2]
    assert [d["image_id"] for d in diff["images_with_other_counts"]] == [1, 2]
    # one results file only: a clear message
    assert main(["export", str(g), "--results", str(a), "--compare", "a", "--out",
                 str(tmp_path / "x.txt"), "--no-cache"]) != 0
    err = capsys.readouterr().err
    assert "two results files" in err and "Traceback" not in err
