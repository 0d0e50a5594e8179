"""cocoview: a fast browser for COCO-format datasets.

The package root is Qt-free: ``import cocoview`` and the headless API
(:func:`open`, :class:`~cocoview.model.dataset.Dataset`) work where PySide6 is
not installed. The desktop GUI lives in :mod:`cocoview.qt` and is imported only
when a window is asked for.

``open`` and ``Dataset`` are imported on first use: the helper processes of a first
open (``cocoview.model.chunk_worker``, ``index_process``) import this package too,
and need none of the dataset's modules (~0.2 s of their start-up; issue 18).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

from cocoview.model.errors import CocoFormatError, Problem, Severity

if TYPE_CHECKING:
    from cocoview.model.dataset import Dataset, open

__all__ = ["CocoFormatError", "Dataset", "Problem", "Severity", "__version__", "open"]


def __getattr__(name: str) -> Any:
    if name in ("Dataset", "open"):
        from cocoview.model import dataset

        value = getattr(dataset, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'cocoview' has no attribute {name!r}")
