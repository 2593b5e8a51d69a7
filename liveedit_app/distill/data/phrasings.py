"""How a creator might ask for each edit: at least 20 phrasings per edit, some held out.

Phrasings are built from templates and synonyms, then split by a fixed hash, so the held-out
sentences are ones training never sees (their words, mostly, it has).
"""

from __future__ import annotations

import hashlib
from functools import cache

from liveedit_app.distill.data.edits import EDIT_KEYS, NAMED_COLORS

HELDOUT_SHARE = 0.2

_STYLE_TEMPLATES = (
    "turn it into {np}", "make the video look like {np}", "convert this to {np}",
    "render everything as {np}", "restyle the scene as {np}", "make it {np}",
    "transform the footage into {np}", "I want this to look like {np}",
    "change the whole picture to {np}", "apply {np} to everything", "show it as {np}",
    "edit the clip into {np}",
)
_STYLE_NOUNS = {
    "pencil_sketch": ("a pencil sketch", "a graphite drawing", "a pencil drawing",
                      "a hand-drawn sketch"),
    "cartoon": ("a cartoon", "an animated cartoon", "a comic-book cartoon",
                "a toon-shaded cartoon"),
    "noir": ("film noir", "a noir film", "high-contrast black and white", "a moody noir look"),
    "vintage_film": ("vintage film", "an old sepia photograph", "a faded retro film",
                     "an antique film reel"),
    "night": ("night time", "a night scene", "a moonlit night", "a dark blue night"),
    "golden_hour": ("golden hour", "a warm sunset glow", "late-afternoon golden light",
                    "a golden sunset"),
    "thermal": ("a thermal camera image", "infrared heat vision", "a heat map",
                "thermal imaging"),
    "pop_art": ("pop art", "a Warhol-style pop art print", "a bold pop-art poster",
                "a four-colour pop art graphic"),
}
_REFS = ("it", "the object", "the selection", "this", "the masked area", "the thing I painted")
_REGION_TEMPLATES = {
    "recolor": ("make {ref} {color}", "paint {ref} {color}", "turn {ref} {color}",
                "color {ref} {color}", "change {ref} to {color}", "recolor {ref} {color}"),
    "blur": ("blur {ref}", "make {ref} blurry", "put {ref} out of focus", "defocus {ref}",
             "soften {ref} with a blur", "smear {ref} so it is blurred"),
    "pixelate": ("pixelate {ref}", "censor {ref} with big pixels", "make {ref} pixelated",
                 "mosaic {ref}", "turn {ref} into blocky pixels",
                 "cover {ref} with a pixel mosaic"),
    "glow": ("make {ref} glow", "light {ref} up", "give {ref} a glow", "make {ref} shine bright",
             "add a glowing aura to {ref}", "make {ref} radiant and glowing"),
    "metallic": ("make {ref} metallic", "turn {ref} into chrome", "make {ref} polished metal",
                 "make {ref} look like silver", "cover {ref} in chrome",
                 "turn {ref} to brushed steel"),
    "remove": ("remove {ref}", "erase {ref}", "delete {ref}", "make {ref} disappear",
               "get rid of {ref}", "take {ref} out of the shot"),
}


def _all_phrasings(key: str) -> list[str]:
    if key in _STYLE_NOUNS:
        return [t.format(np=n) for t in _STYLE_TEMPLATES for n in _STYLE_NOUNS[key]]
    if key.startswith("recolor_"):
        color = key.removeprefix("recolor_")
        return [t.format(ref=r, color=color) for t in _REGION_TEMPLATES["recolor"] for r in _REFS]
    return [t.format(ref=r) for t in _REGION_TEMPLATES[key] for r in _REFS]


def _rank(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


@cache
def phrasings(key: str, split: str = "train") -> tuple[str, ...]:
    """The phrasings of one edit for `split` ("train", "heldout" or "all")."""
    every = _all_phrasings(key)
    if split == "all":
        return tuple(every)
    # The same share of every edit is held out: the phrasings whose hashes come first.
    heldout = set(sorted(every, key=_rank)[: round(len(every) * HELDOUT_SHARE)])
    return tuple(p for p in every if (p in heldout) == (split == "heldout"))


def all_instructions() -> list[str]:
    """Every phrasing of every edit, train and held out (what a text table must cover)."""
    return [p for key in EDIT_KEYS for p in phrasings(key, "all")]


assert set(NAMED_COLORS) <= {k.removeprefix("recolor_") for k in EDIT_KEYS}
