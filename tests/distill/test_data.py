import numpy as np
import pytest

from liveedit_app.distill.data.edits import EDITS, GLOBAL_EDITS, REGION_EDITS
from liveedit_app.distill.data.generator import EditExampleGenerator
from liveedit_app.distill.data.phrasings import all_instructions, example_prompts, phrasings
from liveedit_app.distill.data.pool import generate_pool


def small(split="train"):
    return EditExampleGenerator(64, 64, 5, split)


def test_the_same_index_gives_the_same_example_and_another_index_another():
    a, b = small().example(3), small().example(3)
    assert np.array_equal(a.source, b.source) and np.array_equal(a.target, b.target)
    assert a.instruction == b.instruction and a.edit == b.edit
    c = small().example(4)
    assert np.abs(a.source.astype(int) - c.source.astype(int)).mean() > 5


def test_frames_move_like_footage():
    scene = small().scene(0)
    step = np.abs(np.diff(scene.clean, axis=0)).mean()
    assert 0.002 < step < 0.2  # neither a still nor noise
    assert scene.clean.std() > 0.05


def test_the_mask_covers_exactly_where_the_subject_changes_the_picture():
    gen = small()
    for index in range(6):
        scene = gen.scene(index)
        changed = np.abs(scene.clean - scene.without_subject).max(-1) > 0.03
        assert changed.sum() > 0 or scene.mask.max() < 0.05
        assert (scene.mask[changed] > 0.01).all()  # nothing changes outside the mask
        inside = scene.mask > 0.99
        if inside.sum() > 50:
            assert changed[inside].mean() > 0.6  # and the object is really there


@pytest.mark.parametrize("edit", REGION_EDITS, ids=lambda e: e.key)
def test_region_edits_keep_the_source_outside_the_mask_and_change_it_inside(edit):
    scene = small().scene(1)
    target = edit.apply(scene)
    outside = scene.mask == 0
    assert np.abs(target[outside] - scene.source[outside]).max() < 1e-6
    inside = scene.mask > 0.99
    assert np.abs(target[inside] - scene.source[inside]).mean() > 0.02


def test_styles_change_the_whole_frame_and_are_all_different():
    scene = small().scene(2)
    targets = [e.apply(scene) for e in GLOBAL_EDITS]
    for t in targets:
        assert np.abs(t - scene.clean).mean() > 0.03
    for i in range(len(targets)):
        for j in range(i + 1, len(targets)):
            assert np.abs(targets[i] - targets[j]).mean() > 0.03


def test_edit_catalogue_has_eight_styles_six_region_kinds_and_twenty_phrasings_each():
    assert len(GLOBAL_EDITS) >= 8
    kinds = {e.key.split("_")[0] for e in REGION_EDITS}
    assert len(kinds) >= 6
    for e in EDITS:
        assert len(phrasings(e.key, "all")) >= 20
        assert len(phrasings(e.key, "heldout")) >= 4
    assert len(set(all_instructions())) == len(all_instructions())


def test_heldout_phrasings_and_seeds_never_appear_in_training():
    for e in EDITS:
        assert not set(phrasings(e.key, "train")) & set(phrasings(e.key, "heldout"))
    train, held = small("train"), small("heldout")
    assert not {train.seed(i) for i in range(500)} & {held.seed(i) for i in range(500)}
    train_texts = {p for e in EDITS for p in phrasings(e.key, "train")}
    assert all(held.example(i).instruction not in train_texts for i in range(4))


def test_example_prompts_are_trained_phrasings_best_edit_first():
    trained = {p: e.key for e in EDITS for p in phrasings(e.key, "train")}
    plain = example_prompts()
    assert [trained[p] for p in plain["whole"]] == [e.key for e in GLOBAL_EDITS]
    assert [trained[p] for p in plain["region"]] == [e.key for e in REGION_EDITS]
    assert "make the object red" in plain["region"]
    scores = {"night": {"correct": 1.0, "psnr_region_db": 28.0},
              "noir": {"correct": 1.0, "psnr_region_db": 20.0},
              "cartoon": {"correct": 0.0, "psnr_region_db": 18.0}}
    ranked = [trained[p] for p in example_prompts(scores)["whole"]]
    assert ranked[:2] == ["night", "noir"] and ranked[-1] == "cartoon"  # unmeasured between


def test_pool_matches_single_examples():
    pool = generate_pool(3, height=64, width=64, frames=5, workers=0)
    ex = small().example(2)
    assert np.array_equal(pool.source[2], ex.source)
    assert np.array_equal(pool.target[2], ex.target)
    assert bool(pool.region[2]) == (ex.mask is not None)
    assert all_instructions()[pool.instruction[2]] == ex.instruction


def test_edits_of_one_scene_share_the_footage_and_differ_in_edit():
    group = small().examples(5, 4)
    assert len({ex.edit for ex in group}) == 4
    assert all(np.array_equal(ex.source, group[0].source) for ex in group)
    assert len({ex.target.tobytes() for ex in group}) == 4
    assert all((ex.mask is not None) == next(e.region for e in EDITS if e.key == ex.edit)
               for ex in group)


def test_a_pool_with_shared_scenes_starts_mid_scene_where_asked():
    whole = generate_pool(6, height=64, width=64, frames=5, workers=0, edits_per_scene=3)
    part = generate_pool(3, height=64, width=64, frames=5, workers=0, start=2,
                         edits_per_scene=3)
    assert np.array_equal(part.target, whole.target[2:5])
    assert np.array_equal(part.edit, whole.edit[2:5])
    assert np.array_equal(whole.source[3], whole.source[5])  # edits 0 and 2 of scene 1
    assert not np.array_equal(whole.source[2], whole.source[3])
