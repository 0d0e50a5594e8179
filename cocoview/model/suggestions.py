"""Fixes the review suggests for one detection, and the edits that accept them (issue 17).

Two rules, on an evaluated detection at or above the score threshold (the larger of the
current min score and :data:`MIN_SCORE`) that the evaluation calls a false positive:

- **wrong label**: a ground truth of *another* class, not crowd, missed at the min score,
  overlaps it at box IoU ≥ :data:`RELABEL_IOU` → "Relabel GT #id as <class>" (a
  :class:`~cocoview.model.edits.Relabel` of that ground truth; the best overlap wins);
- **missing annotation**: it overlaps no ground truth at all (box IoU < :data:`ADD_IOU`
  with every one, crowd included) → "Add as annotation" (an
  :class:`~cocoview.model.edits.AddAnnotation` from its box, and its mask if it has one).

Qt-free; the IoU is :meth:`Review.candidates`' (COCOeval's box IoU).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from cocoview.model import edits as E
from cocoview.model.masks import clean_segmentation, geometry_area

if TYPE_CHECKING:
    from cocoview.model.dataset import Dataset
    from cocoview.model.review import Review

#: a "high-score" detection: at least this score (or the min score, if higher)
MIN_SCORE = 0.5
#: a wrong label: the other class's ground truth overlaps at least this much
RELABEL_IOU = 0.5
#: a missing annotation: the detection overlaps every ground truth less than this
ADD_IOU = 0.1


@dataclass(frozen=True)
class Suggestion:
    kind: Literal["relabel", "add"]
    result_row: int
    text: str  # what the button / menu entry says
    ann_id: int = -1  # relabel: the ground truth
    category_id: int = -1  # relabel: its new class; add: the detection's class
    iou: float = 0.0  # relabel: the overlap; add: the best overlap with any ground truth


def _name(ds: Dataset, cid: int) -> str:
    try:
        return ds.category(cid).name
    except KeyError:
        return str(cid)


def suggest(ds: Dataset, rv: Review, result_row: int, min_score: float = 0.0,
            threshold: float = MIN_SCORE) -> list[Suggestion]:
    """The fixes suggested by detection ``result_row`` (none for a detection that was not
    evaluated, e.g. on no image, or under the score threshold)."""
    res = ds.results
    if res is None or not 0 <= result_row < len(res) or result_row >= len(rv.det_row):
        return []
    d = int(rv.det_row[result_row])
    if d < 0 or rv.detection(result_row) != "fp":
        return []
    score = float(rv.score[d])
    if not score >= max(min_score, threshold):
        return []
    cid = int(rv.det_category[d])
    cands = rv.candidates(result_row)
    out: list[Suggestion] = []
    wrong = [c for c in cands if c.category_id != cid and not c.crowd
             and c.iou >= RELABEL_IOU and rv.ground_truth(c.ann_row, min_score) == "missed"]
    if wrong:
        c = max(wrong, key=lambda c: c.iou)
        out.append(Suggestion("relabel", result_row,
                              f"Relabel GT #{c.ann_id} as {_name(ds, cid)}", c.ann_id, cid,
                              c.iou))
    best = max((c.iou for c in cands), default=0.0)
    if best < ADD_IOU:
        out.append(Suggestion("add", result_row, f"Add as annotation ({_name(ds, cid)})",
                              -1, cid, best))
    return out


def add_edit(ds: Dataset, result_row: int, ann_id: int) -> E.AddAnnotation:
    """The new annotation detection ``result_row`` makes: its box, its segmentation if it
    has one (the area then the mask's, as pycocotools computes it), id ``ann_id``.
    EditError for a row that is no detection of an image of the dataset."""
    res = ds.results
    if res is None or not 0 <= result_row < len(res):
        raise E.EditError(f"no detection {result_row}")
    img_row = int(res.ann_image_row[result_row])
    if img_row < 0:
        raise E.EditError(f"detection {result_row} is on no image of the dataset")
    image_id = int(ds.image_ids[img_row])
    box = E.check_box(res.anns.bbox[result_row].tolist(), f"detection {result_row}")
    seg = res.segmentation(result_row)
    area = box[2] * box[3]
    if seg is not None:
        g = clean_segmentation(seg)
        h, w = ds.image_size(img_row)
        if g.rle is None and not g.polygons:
            seg = None  # nothing usable: written without a segmentation
        else:
            area = geometry_area(g, h, w)
    return E.AddAnnotation(ann_id, image_id, int(res.anns.category_id[result_row]), box,
                           seg, float(area))


def accept(ds: Dataset, layer: E.EditLayer, s: Suggestion) -> E.Edit:
    """The edit that accepts ``s`` (a fresh id for an added annotation)."""
    if s.kind == "relabel":
        return E.Relabel(s.ann_id, s.category_id)
    return add_edit(ds, s.result_row, layer.fresh_ann_id())
