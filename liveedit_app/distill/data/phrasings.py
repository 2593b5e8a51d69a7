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


_PRESET_STYLE = ("make it {np}", "turn it into {np}", "make the video look like {np}")
_PRESET_REGION = ("the object", "the selection", "it")


def example_prompt(key: str) -> str:
    """One short trained phrasing of an edit, for the app's presets: a style with its first
    noun phrase, a region edit said of "the object" where training saw those words."""
    trained = phrasings(key, "train")
    if key in _STYLE_NOUNS:
        wanted = [t.format(np=n) for n in _STYLE_NOUNS[key] for t in _PRESET_STYLE]
    else:
        kind = "recolor" if key.startswith("recolor_") else key
        color = key.removeprefix("recolor_")
        wanted = [t.format(ref=r, color=color) for r in _PRESET_REGION
                  for t in _REGION_TEMPLATES[kind]]
    return next((w for w in wanted if w in trained), trained[0])


def example_prompts(per_edit: dict[str, dict] | None = None) -> dict[str, list[str]]:
    """The card's `prompts`: one per edit, whole-picture and region apart, best first when the
    evaluation's per-edit numbers are given (share right, then PSNR; an edit the evaluation did
    not meet goes between those it got right and those it got wrong), else in catalogue order."""
    def score(key: str) -> tuple[float, float]:
        row = (per_edit or {}).get(key)
        if not row:
            return (-0.5, 0.0)
        return (-(row.get("correct") or 0.0), -(row.get("psnr_region_db") or 0.0))

    keys = sorted(EDIT_KEYS, key=score) if per_edit else list(EDIT_KEYS)
    return {"whole": [example_prompt(k) for k in keys if k in _STYLE_NOUNS],
            "region": [example_prompt(k) for k in keys if k not in _STYLE_NOUNS]}


def all_instructions() -> list[str]:
    """Every phrasing of every edit, train and held out (what a text table must cover)."""
    return [p for key in EDIT_KEYS for p in phrasings(key, "all")]


assert set(NAMED_COLORS) <= {k.removeprefix("recolor_") for k in EDIT_KEYS}
