"""Evaluation of detection results against the ground truth, Qt-free.

``ds.evaluate(results, iou_type)`` gives an :class:`Evaluation`: pycocotools
COCOeval's numbers (computed by hotcoco, held to pycocotools by the tests),
every detection's and ground truth's verdict, TIDE error types and a
class-agnostic confusion matrix. See ``docs/decisions/evaluation.md``.
"""

from cocoview.model.evaluation.analysis import TIDE_TYPES, Confusion, ScoreCurve, Tide
from cocoview.model.evaluation.inputs import IOU_TYPES, SKIP_REASONS
from cocoview.model.evaluation.result import Evaluation, evaluate

__all__ = ["IOU_TYPES", "SKIP_REASONS", "TIDE_TYPES", "Confusion", "Evaluation", "ScoreCurve",
           "Tide", "evaluate"]
