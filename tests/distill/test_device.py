import pytest

from liveedit_app.distill import distributed
from liveedit_app.errors import InputError


def test_a_training_device_name_nobody_knows_is_refused_with_a_sentence():
    with pytest.raises(InputError, match="Unknown compute device 'gpu'"):
        distributed.setup("gpu")


def test_auto_trains_on_the_cpu_or_cuda_never_elsewhere():
    assert distributed.setup("auto").device.type in ("cpu", "cuda")
