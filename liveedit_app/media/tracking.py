"""A painted mask that follows the subject: carried from frame to frame with DIS optical flow.

Each frame the mask is pulled along the backward flow (where each pixel of this frame was in the
last one). Flow alone drifts: it is smooth across the subject's outline, so background uncovered
behind a moving subject inherits the subject's motion and creeps into the mask, and the outline
blurs a little with every warp. So after warping, a band around the outline is re-decided by colour:
a colour model of "selected" against "not selected" is learned from the frame the creator painted
on, and in the band each pixel the flow gives some share of the selection is pushed towards the
side its colour belongs to. Elsewhere the warped mask is kept as it is. "Selected" colours are
learned a band's width inside the painted outline, so background a loose stroke overlaps counts as
background and does not stay behind (a ghost) where the subject started. Where the picture did not
change between two frames the pixel is taken as still, whatever the smooth flow says, so a still
selection is not dragged along by an object passing next to it.

A still selection that an object passes over would be lost where it was covered (the flow carries
the covered part away with the object, and leaves a trail of it behind). So the tracker remembers,
for every pixel, the selection it had the last time nothing changed near it, with its look then:
once the object has gone and nothing changes near the pixel again, it gets that selection back.

Known weak spot: colours shared with the neighbours let the outline creep outwards over time;
painting again re-anchors.

All of this runs on a copy of the picture scaled so its longer side is at most `max_side` pixels;
the mask comes back at the source size.
"""

from __future__ import annotations

from collections import deque

import cv2
import numpy as np

_LEVELS = 16  # colour model: 16 levels per channel, 4096 bins
# Colour may only re-decide pixels the flow already gives some share of the selection: otherwise a
# selection would spread, a few pixels a frame, over every neighbour of a similar colour.
_SUPPORT = 0.02
_PRIOR = 1e-4  # share added to every bin so colours never seen give an undecided 0.5
# Recent pictures kept so a mask painted on a picture the worker has already moved past (the
# window shows frames a little late) is anchored where it was painted and then caught up.
_HISTORY = 16
# A pixel "changed" when a channel of its (3x3-blurred) colour differs by more than this from the
# look remembered with its selection: sensor noise does not count, a passing object does.
_SAME_LOOK = 20
# A changed look that stays put this many frames (2 s at 30 FPS) becomes the remembered one: the
# camera moved or the light changed. (An object standing still longer over a still selection
# takes that part of it away for good.)
_SETTLE_FRAMES = 60
# OpenCV 5.0's DIS flow raises on a picture under 12 px and crashes the process on one under 32 px
# high (a very wide source, e.g. 320x30)
_MIN_FLOW_SIDE = 32


class MaskTracker:
    def __init__(
        self,
        max_side: int = 512,
        preset: int = cv2.DISOPTICAL_FLOW_PRESET_FAST,
        band_px: int = 6,
        color_gain: float = 1.5,
    ):
        self.max_side = max_side
        self.band_px = band_px  # half width of the re-decided band around the outline (scaled px)
        self.color_gain = color_gain  # how hard colour evidence moves a band pixel
        self._dis = cv2.DISOpticalFlow.create(preset)
        self._recent: deque[tuple[int | None, np.ndarray]] = deque(maxlen=_HISTORY)  # (index,
        # [h, w, 3] uint8 scaled picture), oldest first; the last one is the last frame seen
        self._mask: np.ndarray | None = None  # [h, w] float32 in [0, 1], for that frame
        self._p_selected: np.ndarray | None = None  # [4096] float32, P(selected | colour bin)
        self._size = (0, 0)  # (H, W) of the source
        # per pixel: its selection and look ([h, w] float32, [h, w, 3] uint8 blurred) the last
        # time nothing changed near it, and whether something did on the last frame (0/1 uint8)
        self._rest_mask: np.ndarray | None = None
        self._rest_look: np.ndarray | None = None
        self._hidden: np.ndarray | None = None
        self._known: np.ndarray | None = None  # [h, w] 0/1 uint8: has been calm since painted
        self._last_look: np.ndarray | None = None  # the previous frame's look
        self._steady: np.ndarray | None = None  # [h, w] uint8: frames its look stayed put

    @property
    def mask(self) -> np.ndarray | None:
        """[H, W] float32 in [0, 1] for the last frame seen, or None when nothing is painted."""
        return None if self._mask is None else self._full_size(self._mask)

    def set_mask(self, mask: np.ndarray | None, index: int | None = None) -> None:
        """Anchor `mask` ([H, W] float32 in [0, 1], source size) to the picture with frame `index`
        (default: the last one seen), learn the colours of what it selects, and carry it on to the
        last frame seen."""
        self._forget_rest()  # re-anchored on what is painted
        if mask is None:
            self._mask = self._p_selected = None
            return
        self._size = mask.shape[:2]
        self._mask = self._scaled(np.asarray(mask, np.float32))
        self._p_selected = None
        pictures = [small for _, small in self._recent]
        indices = [i for i, _ in self._recent]
        start = len(pictures) - 1
        if index is not None and index in indices:
            start = indices.index(index)
        if start < 0 or pictures[start].shape[:2] != self._mask.shape:
            return
        self._p_selected = _color_model(pictures[start], self._mask, self.band_px)
        self._remember(pictures[start])
        for prev, cur in zip(pictures[start:], pictures[start + 1 :], strict=False):
            self._mask = self._follow(prev, cur)
            self._remember(cur)

    def reset(self) -> None:
        """A new stream: forget the previous pictures and the colours learned on them (the
        selection stays where it is; colours are learned again on the next picture)."""
        self._recent.clear()
        self._p_selected = None
        self._forget_rest()

    def update(self, rgb: np.ndarray, index: int | None = None) -> np.ndarray | None:
        """Move the mask along with `rgb` ([H, W, 3] uint8), the next picture of the stream (frame
        `index`), and return it for this picture (source size), or None when nothing is painted."""
        self._size = rgb.shape[:2]
        small = self._scaled(rgb)
        prev = self._recent[-1][1] if self._recent else None
        self._recent.append((index, small))
        if self._mask is None:
            return None
        if self._mask.shape != small.shape[:2]:
            # the source changed size: keep the selection where it is on the new picture
            self._mask = cv2.resize(self._mask, (small.shape[1], small.shape[0]))
            self._p_selected = None
            self._forget_rest()
        elif prev is not None and prev.shape == small.shape:
            self._mask = self._follow(prev, small)
        self._remember(small)
        if self._p_selected is None:
            self._p_selected = _color_model(small, self._mask, self.band_px)
        return self._full_size(self._mask)

    def _follow(self, prev: np.ndarray, cur: np.ndarray) -> np.ndarray:
        gray, prev_gray = (cv2.cvtColor(x, cv2.COLOR_RGB2GRAY) for x in (cur, prev))
        if min(gray.shape) < _MIN_FLOW_SIDE:
            return self._mask  # too small a picture to follow: the selection stays where it is
        # backward flow: point x of this frame was at x + flow[x] in the previous one
        flow = self._dis.calc(gray, prev_gray, None)  # [h, w, 2]
        here = _identity(*gray.shape)
        # Where the picture did not change, the pixel did not move: smooth flow spills over from
        # a moving object onto the still background next to it and would drag a selection there.
        moved_err = cv2.absdiff(cv2.remap(prev_gray, here + flow, None, cv2.INTER_LINEAR), gray)
        still_err = cv2.absdiff(prev_gray, gray)
        moved = cv2.blur(still_err, (3, 3)) > cv2.blur(moved_err, (3, 3))  # [h, w]
        back = here + flow * moved[..., None].astype(np.float32)
        warped = cv2.remap(self._mask, back, None, cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=0)  # [h, w]
        if self._p_selected is None:
            return warped
        inside = (warped > 0.5).astype(np.uint8)
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * self.band_px + 1,) * 2)
        band = (cv2.dilate(inside, kernel) > cv2.erode(inside, kernel)) & (warped > _SUPPORT)
        p = self._p_selected[_bins(cur[band])]
        warped[band] = np.clip(warped[band] + self.color_gain * (p - 0.5), 0.0, 1.0)
        return warped

    def _forget_rest(self) -> None:
        self._rest_mask = self._rest_look = self._hidden = self._known = self._last_look = None

    def _remember(self, picture: np.ndarray) -> None:
        """Pixels far from anything that changes ("calm") remember their selection and look. A
        pixel that was near a change (an object passed over or next to it) and is calm again gets
        back the selection it had when last calm: what the flow did to it meanwhile (a still
        selection carried off, a trail left behind) is undone. A pixel never yet calm has nothing
        to give back (a stroke's edge beside a moving subject keeps what the colours decide)."""
        look = cv2.blur(picture, (3, 3))  # [h, w, 3] uint8
        if self._rest_look is None or self._rest_look.shape != look.shape:
            self._rest_mask = self._mask.copy()
            self._rest_look = self._last_look = look
            self._hidden, self._known, self._steady = (np.zeros(look.shape[:2], np.uint8)
                                                       for _ in range(3))
            return
        # (cv2 throughout: this runs on every frame, and numpy's masked copies cost ~10 ms here)
        changed = (_channel_diff(look, self._rest_look) > _SAME_LOOK).astype(np.uint8)  # [h, w]
        # a change that has stayed put for a while is the new rest (the camera moved, the light
        # changed): remember it as it is, or nothing would ever be calm again there
        still = (_channel_diff(look, self._last_look) <= _SAME_LOOK).astype(np.uint8)
        self._steady = cv2.add(self._steady, still) * still  # frames unchanged in a row (<= 255)
        settled = changed & (self._steady >= _SETTLE_FRAMES)
        cv2.copyTo(look, settled, self._rest_look)
        cv2.copyTo(self._mask, settled, self._rest_mask)
        changed &= 1 - settled
        self._last_look = look
        reach = 4 * self.band_px + 1
        calm = (cv2.dilate(changed, np.ones((reach, reach), np.uint8)) == 0).astype(np.uint8)
        back = calm & self._hidden & self._known
        cv2.copyTo(self._rest_mask, back, self._mask)
        cv2.copyTo(self._mask, calm, self._rest_mask)
        cv2.copyTo(look, calm, self._rest_look)  # follows slow changes of light
        self._known |= calm
        self._hidden = 1 - calm

    def _scaled(self, image: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        scale = min(1.0, self.max_side / max(h, w))
        if scale == 1.0:
            return image
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        return cv2.resize(image, size, interpolation=cv2.INTER_AREA)

    def _full_size(self, mask: np.ndarray) -> np.ndarray:
        h, w = self._size
        if mask.shape == (h, w):
            return mask.copy()
        return cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR)


def _channel_diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """[h, w] uint8: the largest per-channel difference of two [h, w, 3] uint8 pictures."""
    red, green, blue = cv2.split(cv2.absdiff(a, b))
    return cv2.max(cv2.max(red, green), blue)


def _bins(rgb: np.ndarray) -> np.ndarray:
    """Colour bin index of each pixel of `rgb` ([..., 3] uint8)."""
    q = (rgb // (256 // _LEVELS)).astype(np.int32)
    return (q[..., 0] * _LEVELS + q[..., 1]) * _LEVELS + q[..., 2]


def _color_model(rgb: np.ndarray, mask: np.ndarray, margin_px: int) -> np.ndarray:
    """[4096] float32: for each colour bin, the chance that a pixel of that colour is selected,
    with both sides weighted equally (so a small selection is not outvoted by the background).

    "Selected" colours are learned only `margin_px` inside the outline, and the ring between is
    left out of both sides: a painted stroke is usually a little larger than the subject, and the
    background it overlaps must not count as selected, or the band would keep it (a ghost left
    where the subject started)."""
    bins = _bins(rgb)
    selected = mask > 0.5
    unselected = ~selected
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * margin_px + 1,) * 2)
    core = cv2.erode(selected.astype(np.uint8), kernel).astype(bool)
    if core.sum() >= 0.1 * selected.sum():
        selected = core
    n_bins = _LEVELS**3
    fg = _smooth(np.bincount(bins[selected], minlength=n_bins)) / max(1, selected.sum()) + _PRIOR
    bg = _smooth(np.bincount(bins[unselected], minlength=n_bins)) / max(1, unselected.sum())
    bg += _PRIOR
    return (fg / (fg + bg)).astype(np.float32)


def _smooth(counts: np.ndarray) -> np.ndarray:
    """[4096] counts blurred (1-2-1) along each colour axis, so a colour hidden under the subject
    on the painted frame (e.g. a gradient it covered) takes the side of its nearest seen colours
    instead of staying undecided."""
    cube = counts.reshape(_LEVELS, _LEVELS, _LEVELS).astype(np.float64)
    for axis in range(3):
        padded = np.pad(cube, [(1, 1) if a == axis else (0, 0) for a in range(3)], mode="edge")
        lo, mid, hi = (np.take(padded, range(k, k + _LEVELS), axis=axis) for k in range(3))
        cube = (lo + 2 * mid + hi) / 4
    return cube.reshape(-1)


_grids: dict[tuple[int, int], np.ndarray] = {}


def _identity(h: int, w: int) -> np.ndarray:
    """[h, w, 2] float32 of (x, y) pixel coordinates, cached per size."""
    grid = _grids.get((h, w))
    if grid is None:
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        grid = _grids[(h, w)] = np.dstack([xs, ys])
    return grid
