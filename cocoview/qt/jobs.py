"""The base of every worker job that reads a dataset.

PySide's ``QThreadPool`` keeps Python runnables referenced after they finish,
or after ``clear()`` takes them off its queue; a job holding its dataset
strongly kept every dataset of the session alive (bench_scroll.py found it).
So jobs hold it weakly: ``job.ds`` is None once the dataset is closed, and the
job then does nothing.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

from PySide6.QtCore import QRunnable

from cocoview.model.dataset import Dataset


def _none() -> None:
    return None


class DatasetJob(QRunnable):
    _ds_ref: Callable[[], Dataset | None] = staticmethod(_none)

    @property
    def ds(self) -> Dataset | None:
        return self._ds_ref()

    @ds.setter
    def ds(self, value: Dataset | None) -> None:
        self._ds_ref = weakref.ref(value) if value is not None else _none
