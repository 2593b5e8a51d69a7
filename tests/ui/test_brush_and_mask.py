"""The brush paints what a creator expects: size, hardness, eraser, invert, through real mouse
events on the preview."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from liveedit_app.ui.brush import coverage, paint_segment
from liveedit_app.ui.preview import OVERLAY_RGB, PreviewWidget, overlay_rgba
from liveedit_app.ui.state import BrushState, MaskDocument, StreamStatus, ViewState


def test_hard_brush_covers_its_diameter_and_nothing_more():
    mask = np.zeros((100, 100), np.float32)
    paint_segment(mask, (50, 50), (50, 50), size=20, hardness=1.0)
    row = mask[50]
    assert row[50] == 1.0
    assert row[42] == pytest.approx(1.0, abs=0.05)  # 7.5 px from the centre, radius 10
    assert row[61] == 0.0 and row[38] == 0.0  # beyond the radius
    assert (mask > 0.5).sum() == pytest.approx(np.pi * 10**2, rel=0.08)


def test_overlay_is_the_overlay_colour_premultiplied_by_the_mask():
    rgba = overlay_rgba(np.array([[0.0, 0.5, 1.0]], np.float32))
    assert rgba.shape == (1, 3, 4) and rgba.dtype == np.uint8
    assert rgba[0, 0].tolist() == [0, 0, 0, 0]
    assert rgba[0, 2].tolist() == [*OVERLAY_RGB, 255]
    assert rgba[0, 1, 3] == 128
    assert np.abs(rgba[0, 1, :3].astype(int) - np.array(OVERLAY_RGB) / 2).max() <= 1
    assert (rgba[..., :3] <= rgba[..., 3:]).all()  # premultiplied: no channel above alpha


def test_soft_brush_falls_off_from_the_centre():
    d = np.array([0.0, 2.0, 5.0, 8.0, 10.0])
    soft = coverage(d, radius=10, hardness=0.0)
    assert soft[0] == 1.0 and soft[-1] == 0.0
    assert soft[2] == pytest.approx(0.5, abs=0.01)  # half way: smoothstep gives one half
    assert np.all(np.diff(soft) < 0)
    hard = coverage(d, radius=10, hardness=0.8)
    assert hard[:3].tolist() == [1.0, 1.0, 1.0]  # full inside 8 px


def test_a_fast_drag_leaves_a_continuous_line():
    mask = np.zeros((40, 200), np.float32)
    paint_segment(mask, (10, 20), (190, 20), size=6, hardness=1.0)
    assert (mask[20, 10:190] == 1.0).all()


def test_eraser_removes_only_under_the_brush():
    mask = np.ones((60, 60), np.float32)
    paint_segment(mask, (30, 30), (30, 30), size=20, hardness=1.0, erase=True)
    assert mask[30, 30] == 0.0
    assert mask[30, 45] == 1.0


@pytest.fixture
def preview(qtbot):
    """A 400x200 preview over a 200x100 picture: one widget pixel is half a picture pixel."""
    view, brush, mask, status = ViewState(), BrushState(), MaskDocument(), StreamStatus()
    view.mode = "edited"
    mask.fit(100, 200)
    widget = PreviewWidget(view, brush, mask, status)
    widget.setFixedSize(400, 200)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def drag(widget, start, end, button=Qt.MouseButton.LeftButton, steps=8):
    QTest.mousePress(widget, button, Qt.KeyboardModifier.NoModifier, QPoint(*start))
    for i in range(1, steps + 1):
        x = start[0] + (end[0] - start[0]) * i // steps
        y = start[1] + (end[1] - start[1]) * i // steps
        QTest.mouseMove(widget, QPoint(x, y))
    QTest.mouseRelease(widget, button, Qt.KeyboardModifier.NoModifier, QPoint(*end))


def test_mouse_stroke_paints_the_mask_at_picture_coordinates(preview):
    preview.brush.size, preview.brush.hardness = 20, 1.0
    drag(preview, (100, 100), (300, 100))
    mask = preview.mask.mask
    assert mask.shape == (100, 200)
    # widget x 100..300 is picture x 50..150 on row 50; the brush reaches 10 px above and below
    assert (mask[50, 52:148] == 1.0).all()
    assert mask[41, 100] == 1.0 and mask[62, 100] == 0.0
    assert mask[50, 30] == 0.0 and mask[50, 170] == 0.0
    assert (mask > 0.5).sum() == pytest.approx(100 * 20 + np.pi * 100, rel=0.1)


def test_brush_size_sets_the_stroke_width(preview):
    preview.brush.size, preview.brush.hardness = 40, 1.0
    drag(preview, (100, 100), (300, 100))
    column = preview.mask.mask[:, 100]
    assert (column > 0.5).sum() == pytest.approx(40, abs=2)


def test_soft_hardness_gives_a_soft_edge(preview):
    preview.brush.size, preview.brush.hardness = 40, 0.0
    drag(preview, (100, 100), (300, 100))
    column = preview.mask.mask[:, 100]
    assert column[50] == pytest.approx(1.0, abs=0.05)
    assert column[40] == pytest.approx(0.5, abs=0.1)  # 10 px off the line = half the radius
    assert column[69] < 0.05


def test_eraser_and_right_button_erase(preview):
    preview.brush.size, preview.brush.hardness = 20, 1.0
    drag(preview, (60, 100), (340, 100))
    preview.brush.eraser = True
    drag(preview, (200, 60), (200, 140))  # erase a vertical cut at picture x = 100
    preview.brush.eraser = False
    drag(preview, (300, 60), (300, 140), button=Qt.MouseButton.RightButton)  # x = 150
    row = preview.mask.mask[50]
    assert row[100] == 0.0 and row[150] == 0.0
    assert row[80] == 1.0 and row[125] == 1.0


def test_invert_swaps_painted_and_unpainted(preview):
    preview.brush.size, preview.brush.hardness = 20, 1.0
    drag(preview, (100, 100), (300, 100))
    before = preview.mask.mask.copy()
    preview.mask.invert()
    np.testing.assert_allclose(preview.mask.mask, 1.0 - before)
    preview.mask.clear()
    assert preview.mask.mask is None


def test_strokes_land_on_the_same_mask_in_side_by_side(preview):
    preview.view.mode = "side_by_side"
    preview.brush.size, preview.brush.hardness = 10, 1.0
    left, right = preview.picture_rects()
    assert left.width() == pytest.approx(200) and right.x() == pytest.approx(200)
    # the centre of each half is the picture's centre (100, 50)
    QTest.mouseClick(preview, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(int(right.center().x()), int(right.center().y())))
    assert preview.mask.mask[50, 100] == 1.0


def test_wipe_divider_drags_instead_of_painting(preview):
    preview.view.mode = "wipe"
    assert preview.divider_x() == pytest.approx(200)
    drag(preview, (200, 100), (300, 100))
    assert preview.view.wipe == pytest.approx(0.75, abs=0.01)
    assert preview.mask.mask is None
