"""choose_compiled: which module a stage trains through (torch.compile or eager), decided by
timing both on a fixed batch; a compiler failure trains eagerly. Fake compilers keep it fast."""

import time

import pytest
import torch
from torch import nn

from liveedit_app.distill import distributed
from liveedit_app.distill.config import StageConfig
from liveedit_app.distill.trainer import choose_compiled
from liveedit_app.errors import TrainingError

CPU = torch.device("cpu")


class Slowed(nn.Module):
    """A stand-in for a compiled module: the same maths, `delay` seconds more per call."""

    def __init__(self, inner: nn.Module, delay: float) -> None:
        super().__init__()
        self.inner, self.delay = inner, delay

    def forward(self, x):
        time.sleep(self.delay)
        return self.inner(x)


def _setup(eager_delay: float):
    model = Slowed(nn.Linear(4, 4), eager_delay)
    x = torch.randn(8, 4)
    calls = []

    def trial(m):
        calls.append(m)
        m(x).square().mean().backward()
        model.zero_grad(set_to_none=True)

    return model, trial, calls


def test_off_never_compiles():
    model, trial, calls = _setup(0.0)

    def refuse(_):
        raise AssertionError("compiled although off")

    chosen, report = choose_compiled(model, "off", trial, CPU, distributed.setup("cpu"),
                                     compile_fn=refuse, log=lambda _: None)
    assert chosen is model and report == {"mode": "off", "chosen": "eager"} and not calls


@pytest.mark.parametrize(("eager_delay", "compiled_delay", "want"),
                         [(0.03, 0.0, "compiled"), (0.0, 0.03, "eager")])
def test_auto_keeps_the_faster(eager_delay, compiled_delay, want):
    model, trial, calls = _setup(eager_delay)
    fake = None

    def compile_fn(m):
        nonlocal fake
        fake = Slowed(m.inner, compiled_delay)
        return fake

    lines = []
    chosen, report = choose_compiled(model, "auto", trial, CPU, distributed.setup("cpu"),
                                     repeats=3, compile_fn=compile_fn, log=lines.append)
    assert report["chosen"] == want
    assert chosen is (fake if want == "compiled" else model)
    fast, slow = sorted([report["eager_ms"], report["compiled_ms"]])
    assert fast < 15 and slow > 25  # 30 ms of sleep on one side only
    # one compiling trial, one eager warm-up, then 3 timed of each
    assert calls.count(fake) == 4 and calls.count(model) == 4
    assert model.inner.weight.grad is None  # the trials leave no gradient behind
    assert want in lines[-1]


def test_a_failing_compiler_trains_eagerly_and_says_why():
    model, trial, _ = _setup(0.0)

    class Broken(nn.Module):
        """Fails in its backward, after the model's weight already has a gradient."""

        def forward(self, x):
            class Fail(torch.autograd.Function):
                @staticmethod
                def forward(ctx, y):
                    return y.clone()

                @staticmethod
                def backward(ctx, g):
                    raise RuntimeError("inductor: no C++ compiler")

            # the model's branch is later in the graph, so its backward runs (and leaves a
            # gradient on the weight) before the failing one
            return Fail.apply(x.clone().requires_grad_()) + model.inner(x)

    lines = []
    chosen, report = choose_compiled(model, "on", trial, CPU, distributed.setup("cpu"),
                                     compile_fn=lambda m: Broken(), log=lines.append)
    assert chosen is model and report["chosen"] == "eager"
    assert "no C++ compiler" in report["error"] and "eagerly" in lines[0]
    assert model.inner.weight.grad is None  # no half-made gradient reaches the first step


def test_on_keeps_the_compiled_module_after_one_trial():
    model, trial, calls = _setup(0.0)
    fake = Slowed(model.inner, 0.0)
    chosen, report = choose_compiled(model, "on", trial, CPU, distributed.setup("cpu"),
                                     compile_fn=lambda m: fake, log=lambda _: None)
    assert chosen is fake and report["chosen"] == "compiled" and calls == [fake]
    assert report["compile_s"] >= 0


def test_config_refuses_an_unknown_mode():
    with pytest.raises(TrainingError, match="compile must be one of off, on, auto"):
        StageConfig(compile="yes")
