"""Label placement: no label covers another or a reserved area; the largest objects
choose first; what has no room is left out."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cocoview.model.labels import place_labels


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 600), st.integers(0, 400), st.integers(2, 200),
                          st.integers(2, 200), st.integers(10, 120)), min_size=1, max_size=60))
def test_placed_labels_never_overlap(objs: list[tuple[int, int, int, int, int]]) -> None:
    anchors = [(x, y, w, h) for x, y, w, h, _ in objs]
    sizes = [(lw, 14.0) for *_, lw in objs]
    banner = (0.0, 0.0, 300.0, 20.0)
    spots = place_labels(anchors, sizes, (0, 0, 640, 480), [banner])
    rects = [(s[0], s[1], w, h) for s, (w, h) in zip(spots, sizes, strict=True) if s]
    for i, a in enumerate(rects):
        assert not _overlap(a, banner)
        assert a[0] >= 0 and a[0] + a[2] <= 640 + 1e-9 and a[1] >= 0 and a[1] + a[3] <= 480
        for b in rects[i + 1:]:
            assert not _overlap(a, b)


def test_the_first_label_keeps_its_place_and_a_twin_moves() -> None:
    box = (100.0, 100.0, 80.0, 60.0)
    spots = place_labels([box, box, box], [(50.0, 14.0)] * 3, (0, 0, 640, 480))
    assert spots[0] == (100.0, 86.0)  # above the box's top-left corner
    assert spots[1] is not None and spots[1] != spots[0]
    assert len({s for s in spots if s}) == sum(s is not None for s in spots)


def test_no_room_means_no_label() -> None:
    spots = place_labels([(0.0, 0.0, 10.0, 10.0)] * 50, [(30.0, 14.0)] * 50, (0, 0, 40, 30))
    assert spots[0] is not None and any(s is None for s in spots)


def test_two_thousand_labels_are_placed() -> None:
    rng = np.random.default_rng(0)
    anchors = [(float(x), float(y), 20.0, 20.0) for x, y in rng.integers(0, 1900, (2000, 2))]
    spots = place_labels(anchors, [(40.0, 12.0)] * 2000, (0, 0, 1920, 1920))
    assert sum(s is not None for s in spots) > 500
