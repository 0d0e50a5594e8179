"""Which overlay layers an image has something for, and what the current choices hide:
so that a layer that is off, or a min score that hides detections, says so."""

from __future__ import annotations

import math
from dataclasses import dataclass

from cocoview.model.look import Look
from cocoview.model.overlays import Overlays

#: the layers a dataset opens with turned on when the image has data for them
DATA_LAYERS = ("masks", "boxes", "keypoints", "labels", "results")


@dataclass(frozen=True)
class Hidden:
    """What the image has that is not drawn."""

    layers: tuple[str, ...]  # layers that are off although the image has data for them
    detections: int  # detections not shown (results off, or under the min score)
    reason: str  # "results off" / "under the min score 0.30" / ""

    def text(self, keys: dict[str, str] | None = None) -> str:
        """e.g. ``masks hidden (M) · 12 detections under the min score 0.30``."""
        keys = keys or {}
        parts = [f"{name} hidden" + (f" ({keys[name]})" if keys.get(name) else "")
                 for name in self.layers if name != "results"]
        if self.detections:
            parts.append(f"{self.detections:,} detection{'s' * (self.detections != 1)} "
                         f"hidden ({self.reason})")
        return " · ".join(parts)


def layers_with_data(ov: Overlays) -> set[str]:
    items = ov.items
    out: set[str] = set()
    if any(it.has_mask for it in items):
        out.add("masks")
    if any(it.bbox is not None and not it.is_stuff for it in items):
        out.add("boxes")
    if any(it.keypoints is not None and len(it.keypoints) for it in items):
        out.add("keypoints")
    if items:
        out.add("labels")
    if any(it.is_result for it in items):
        out.add("results")
    return out


def hidden(ov: Overlays, layers: dict[str, bool], look: Look) -> Hidden:
    """What ``ov`` has that the layer switches and ``look`` do not draw."""
    have = layers_with_data(ov)
    off = tuple(k for k in DATA_LAYERS if k in have and not layers.get(k, True))
    dets = [it for it in ov.items if it.is_result and it.category_id not in look.hidden]
    if not layers.get("results", True) or not look.results:
        n, reason = len(dets), "Detections off"
    else:
        n = sum(1 for it in dets if not (math.isfinite(it.score) and it.score >= look.min_score))
        reason = f"under the min score {look.min_score:.2f}"
    return Hidden(off, n, reason if n else "")
