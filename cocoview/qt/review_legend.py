"""The verdict legend drawn over the canvas while a review is shown (issue 14).

One row per verdict style of ``model/review.py`` ``STYLES``: a line sample in its
pen style and colour, the corner badge, and the words. Line style and badge tell
the verdicts apart without colour. The counts at the current min score follow it.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from cocoview.model.review import STYLES, Review, Style

PEN_STYLES = {"solid": Qt.PenStyle.SolidLine, "dash": Qt.PenStyle.DashLine,
              "dot": Qt.PenStyle.DotLine}
#: the legend's rows: style key, the counts key (Review.counts)
ROWS = (("tp", "tp"), ("fp", "fp"), ("ignored", "ignored"), ("matched", "gt_matched"),
        ("missed", "gt_missed"), ("gt_ignored", "gt_ignored"))
_SHORT = {"tp": "TP", "fp": "FP", "ignored": "ignored detection", "matched": "GT found",
          "missed": "GT missed", "gt_ignored": "GT ignored"}
_PAD, _SAMPLE, _BADGE = 6.0, 26.0, 14.0


class ReviewLegend(QWidget):
    """A small translucent panel in the canvas's bottom-left corner."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("review_legend")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.font_ = QFont()
        self.font_.setPointSizeF(8.5)
        self.metrics = QFontMetricsF(self.font_)
        self.counts: dict[str, int] = {}
        self.title = ""
        self.faded = False  # the cursor is over it: nearly transparent, the image shows
        self.setToolTip("\n".join(f"{STYLES[k].badge or ' '}  {STYLES[k].legend}"
                                  for k, _c in ROWS))
        self.setVisible(False)

    def rows(self) -> list[tuple[str, Style, str]]:
        """(key, style, text) per row, as drawn (the tests read these)."""
        out = []
        for key, ck in ROWS:
            n = self.counts.get(ck)
            out.append((key, STYLES[key], _SHORT[key] + (f"  {n:,}" if n is not None else "")))
        return out

    def set_review(self, review: Review | None, min_score: float,
                   image_row: int | None = None) -> None:
        """Show the styles with the counts of the image of dataset row ``image_row`` (or
        of every image) at ``min_score``; hidden without a review."""
        self.counts = review.counts(min_score, image_row) if review is not None else {}
        self.title = "" if review is None else (
            f"{'this image' if image_row is not None else 'all images'} · IoU "
            f"{review.evaluation.iou_thr:.2f} · score ≥ {min_score:.2f}")
        self.setVisible(review is not None)
        self.adjustSize()
        self.update()

    def set_faded(self, on: bool) -> None:
        if on != self.faded:
            self.faded = on
            self.update()

    def sizeHint(self) -> QSize:
        h = self.metrics.height() + 4
        w = max(self.metrics.horizontalAdvance(t) for _k, _s, t in self.rows())
        w = max(w + _SAMPLE + _BADGE + 4 + _PAD, self.metrics.horizontalAdvance(self.title))
        return QSize(int(_PAD * 2 + w + 2), int(_PAD * 2 + h * (len(ROWS) + 1)))

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        if self.faded:
            p.setOpacity(0.12)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(20, 20, 24, 200))
        p.drawRoundedRect(QRectF(self.rect()), 5, 5)
        p.setFont(self.font_)
        h = self.metrics.height() + 4
        p.setPen(QColor(200, 200, 200))
        p.drawText(QRectF(_PAD, _PAD, self.width(), h), Qt.AlignmentFlag.AlignVCenter,
                   self.title)
        for i, (_key, st, text) in enumerate(self.rows()):
            y = _PAD + (i + 1) * h + h / 2
            pen = QPen(QColor(*st.color), 2.0)
            pen.setStyle(PEN_STYLES[st.pen])
            p.setPen(pen)
            p.drawLine(QPointF(_PAD, y), QPointF(_PAD + _SAMPLE, y))
            bx = _PAD * 2 + _SAMPLE
            if st.badge:
                box = QRectF(bx, y - _BADGE / 2, _BADGE, _BADGE)
                p.fillRect(box, QColor(*st.color, 230))
                p.setPen(QColor(0, 0, 0))
                p.drawText(box, Qt.AlignmentFlag.AlignCenter, st.badge)
            p.setPen(QColor(235, 235, 235))
            p.drawText(QRectF(bx + _BADGE + 4, y - h / 2, self.width(), h),
                       Qt.AlignmentFlag.AlignVCenter, text)
        p.end()
