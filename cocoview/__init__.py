"""cocoview: a fast browser for COCO-format datasets.

The package root is Qt-free: ``import cocoview`` and the headless API
(:func:`open`, :class:`~cocoview.model.dataset.Dataset`) work where PySide6 is
not installed. The desktop GUI lives in :mod:`cocoview.qt` and is imported only
when a window is asked for.
"""

from __future__ import annotations

__version__ = "0.1.0"

from cocoview.model.dataset import Dataset, open
from cocoview.model.errors import CocoFormatError, Problem, Severity

__all__ = ["CocoFormatError", "Dataset", "Problem", "Severity", "__version__", "open"]
