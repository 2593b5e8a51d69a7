"""The central preview: edited, source, side by side, or a wipe with a draggable divider; the mask
overlay on top; and the brush, which paints into the `MaskDocument` wherever a picture is shown.

Pictures are drawn into rectangles in logical (device-independent) coordinates and Qt scales them
to the screen, so the preview is sharp and the brush lands where the pointer is at any HiDPI scale.
"""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from liveedit_app.contract import EditedFrame, Frame
from liveedit_app.ui.state import BrushState, MaskDocument, StreamStatus, ViewState

OVERLAY_RGB = (255, 40, 150)  # magenta: rare in footage, visible on skin, sky and foliage
_DIVIDER_GRAB_PX = 8


def to_qimage(rgb: np.ndarray) -> QImage:
    """A QImage that views `rgb` ([H, W, 3] uint8, C-contiguous); keep `rgb` alive while used."""
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888)


def overlay_rgba(mask: np.ndarray) -> np.ndarray:
    """[H, W, 4] uint8 RGBA: the overlay colour with the mask as alpha (premultiplied)."""
    # cv2 (rounds and saturates in one pass): this runs on the GUI thread for every tracked mask,
    # ~1 ms at 1080p where numpy's uint16 round trip took ~19 ms
    mask = np.asarray(mask, np.float32)  # [H, W] in [0, 1]
    return cv2.merge([cv2.convertScaleAbs(mask, alpha=float(v)) for v in (*OVERLAY_RGB, 255)])


class PreviewWidget(QWidget):
    def __init__(self, view: ViewState, brush: BrushState, mask: MaskDocument,
                 status: StreamStatus, parent: QWidget | None = None):
        super().__init__(parent)
        self.view, self.brush, self.mask, self.status = view, brush, mask, status
        self.setObjectName("preview")
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 180)
        self.source_rgb: np.ndarray | None = None  # newest source picture
        self.edited: EditedFrame | None = None  # newest edited picture (with its source)
        self._overlay: np.ndarray | None = None  # [H, W, 4] cached from the mask
        self._last_point: tuple[float, float] | None = None
        self._erasing_with_right = False
        self._dragging_divider = False
        self._pointer: QPointF | None = None
        view.changed.connect(self.update)
        status.changed.connect(self._on_status)
        brush.changed.connect(self.update)
        mask.changed.connect(self._on_mask)

    def sizeHint(self) -> QSize:
        return QSize(960, 540)

    # -- inputs ------------------------------------------------------------------------------

    def show_source(self, frame: Frame) -> None:
        self.source_rgb = np.ascontiguousarray(frame.rgb)
        if self.view.mode in ("source", "side_by_side") or self.edited is None:
            self.update()

    def show_edited(self, out: EditedFrame) -> None:
        self.edited = out
        if self.view.mode != "source":
            self.update()

    def _on_mask(self) -> None:
        m = self.mask.mask
        self._overlay = None if m is None else overlay_rgba(m)
        self.update()

    def _on_status(self, name: str) -> None:
        if name == "banner":
            self.update()

    # -- geometry ----------------------------------------------------------------------------

    def picture_size(self) -> tuple[int, int] | None:
        """(W, H) of the source pictures, None before the first one."""
        if self.mask.size is not None:
            h, w = self.mask.size
            return w, h
        rgb = self.source_rgb
        return None if rgb is None else (rgb.shape[1], rgb.shape[0])

    def picture_rects(self) -> list[QRectF]:
        """Where pictures are drawn, in widget coordinates: one, or two side by side."""
        size = self.picture_size()
        if size is None:
            return []
        area = QRectF(self.rect())
        if self.view.mode == "side_by_side":
            half = area.width() / 2
            return [_fit(size, QRectF(area.x(), area.y(), half, area.height())),
                    _fit(size, QRectF(area.x() + half, area.y(), half, area.height()))]
        return [_fit(size, area)]

    def to_picture(self, pos: QPointF) -> tuple[float, float] | None:
        """Widget point → (x, y) in source pixels, or None outside every picture."""
        size = self.picture_size()
        for rect in self.picture_rects():
            if rect.contains(pos):
                return ((pos.x() - rect.x()) * size[0] / rect.width(),
                        (pos.y() - rect.y()) * size[1] / rect.height())
        return None

    def divider_x(self) -> float | None:
        rects = self.picture_rects()
        if self.view.mode != "wipe" or not rects:
            return None
        return rects[0].x() + rects[0].width() * self.view.wipe

    # -- painting ----------------------------------------------------------------------------

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().color(self.backgroundRole()).darker(130))
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        rects = self.picture_rects()
        source, edited = self._pictures()
        mode = self.view.mode
        if not rects or source is None:
            painter.setPen(self.palette().color(self.foregroundRole()))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Waiting for pictures…")
            return
        if mode == "edited":
            self._draw_picture(painter, rects[0], edited)
        elif mode == "source":
            self._draw_picture(painter, rects[0], source)
        elif mode == "side_by_side":
            self._draw_picture(painter, rects[0], source)
            self._draw_picture(painter, rects[1], edited)
        else:
            self._draw_wipe(painter, rects[0], source, edited)
        if self.view.overlay_visible and self._overlay is not None:
            for rect in rects:
                self._draw_overlay(painter, rect)
        banner_rect = rects[-1] if mode in ("edited", "side_by_side") else rects[0]
        if self.status.banner and mode != "source":
            self._draw_banner(painter, banner_rect, self.status.banner)
        self._draw_brush(painter)

    def _pictures(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(source, edited) to show. Side by side shows the live source next to the newest edit
        (a slow editor must not freeze the camera picture); the wipe compares the same frame."""
        if self.edited is None:
            return self.source_rgb, self.source_rgb
        if self.view.mode == "wipe":
            return self.edited.source, self.edited.rgb
        return self.source_rgb, self.edited.rgb

    def _draw_picture(self, painter: QPainter, rect: QRectF, rgb: np.ndarray | None) -> None:
        if rgb is None:
            return
        rgb = np.ascontiguousarray(rgb)
        painter.drawImage(rect, to_qimage(rgb))

    def _draw_wipe(self, painter: QPainter, rect: QRectF, source, edited) -> None:
        x = self.divider_x()
        painter.save()
        painter.setClipRect(QRectF(rect.x(), rect.y(), x - rect.x(), rect.height()))
        self._draw_picture(painter, rect, source)
        painter.setClipRect(QRectF(x, rect.y(), rect.right() - x, rect.height()))
        self._draw_picture(painter, rect, edited)
        painter.restore()
        painter.setPen(QPen(QColor(255, 255, 255, 220), 2))
        painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
        painter.setBrush(QColor(255, 255, 255, 220))
        painter.drawEllipse(QPointF(x, rect.center().y()), 6, 6)

    def _draw_overlay(self, painter: QPainter, rect: QRectF) -> None:
        overlay = self._overlay
        h, w = overlay.shape[:2]
        image = QImage(overlay.data, w, h, 4 * w, QImage.Format.Format_RGBA8888_Premultiplied)
        painter.save()
        painter.setOpacity(self.view.overlay_opacity)
        painter.drawImage(rect, image)
        painter.restore()

    def _draw_banner(self, painter: QPainter, rect: QRectF, text: str) -> None:
        metrics = painter.fontMetrics()
        band = QRectF(rect.x(), rect.y(), rect.width(), metrics.height() * 1.8)
        painter.fillRect(band, QColor(0, 0, 0, 160))
        painter.setPen(QColor(255, 255, 255))
        text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, int(band.width()) - 16)
        painter.drawText(band, Qt.AlignmentFlag.AlignCenter, text)

    def _draw_brush(self, painter: QPainter) -> None:
        if self._pointer is None or self._dragging_divider:
            return
        rects, size = self.picture_rects(), self.picture_size()
        if not rects or not any(r.contains(self._pointer) for r in rects):
            return
        radius = self.brush.size / 2 * rects[0].width() / size[0]
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for color, width in ((QColor(0, 0, 0, 160), 3), (QColor(255, 255, 255, 230), 1)):
            painter.setPen(QPen(color, width))
            painter.drawEllipse(self._pointer, radius, radius)

    # -- pointer -----------------------------------------------------------------------------

    def mousePressEvent(self, event) -> None:
        pos = event.position()
        divider = self.divider_x()
        if divider is not None and abs(pos.x() - divider) <= _DIVIDER_GRAB_PX:
            self._dragging_divider = True
            return
        if event.button() not in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            return
        point = self.to_picture(pos)
        if point is None:
            return
        self._erasing_with_right = event.button() == Qt.MouseButton.RightButton
        self._last_point = point
        self.mask.stroke(point, point, self.brush, invert=self._erasing_with_right)

    def mouseMoveEvent(self, event) -> None:
        pos = event.position()
        self._pointer = pos
        if self._dragging_divider:
            rect = self.picture_rects()[0]
            self.view.wipe = min(max((pos.x() - rect.x()) / rect.width(), 0.0), 1.0)
            return
        if self._last_point is not None:
            point = self.to_picture(pos)
            if point is not None:
                self.mask.stroke(self._last_point, point, self.brush,
                                 invert=self._erasing_with_right)
                self._last_point = point
        self.update()

    def mouseReleaseEvent(self, _event) -> None:
        self._dragging_divider = False
        self._last_point = None

    def leaveEvent(self, _event) -> None:
        self._pointer = None
        self.update()


def _fit(size: tuple[int, int], area: QRectF) -> QRectF:
    """The largest rectangle of aspect `size` (W, H) centred in `area`."""
    w, h = size
    scale = min(area.width() / w, area.height() / h)
    fw, fh = w * scale, h * scale
    return QRectF(area.x() + (area.width() - fw) / 2, area.y() + (area.height() - fh) / 2, fw, fh)
