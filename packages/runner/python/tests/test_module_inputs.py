"""The generated module refuses bad arguments and inputs with a clear
ValueError that names the argument, the value, the rule and the fix, instead
of "not enough values to unpack", a math domain error or NaN output."""
from __future__ import annotations

import importlib
import math

import pytest
import torch


def _cls(pkg):
    return getattr(pkg, [n for n in pkg.__all__ if n[:1].isupper() and not n.startswith("IR")][0])


def _d_model(pkg) -> int:
    return importlib.import_module(f"{pkg.__name__}._config").D_MODEL


def test_forward_on_a_2d_input_says_it_needs_the_batch_dimension(gen_pkg):
    d = _d_model(gen_pkg)
    block = _cls(gen_pkg)(d)
    with pytest.raises(ValueError, match=rf"u must be a \[batch, seqlen, d_model={d}\] tensor, got shape \(7, {d}\)\. .*u\.unsqueeze\(0\)"):
        block(torch.randn(7, d))


def test_forward_on_the_wrong_feature_size_names_d_model(gen_pkg):
    d = _d_model(gen_pkg)
    with pytest.raises(ValueError, match=rf"d_model={d}\] tensor, got shape \(1, 5, {d + 1}\)\.$"):
        _cls(gen_pkg)(d)(torch.randn(1, 5, d + 1))


@pytest.mark.parametrize(
    "kwargs, rule",
    [
        ({"dt_min": 0.0}, r"dt_min=0\.0, dt_max=0\.1 must satisfy 0 < dt_min <= dt_max .*Use dt_min=0\.001"),
        ({"dt_min": 0.5, "dt_max": 0.1}, r"dt_min=0\.5, dt_max=0\.1 must satisfy 0 < dt_min <= dt_max"),
        ({"dt_max": math.inf}, r"dt_max=inf must satisfy"),
        ({"dt_init_floor": 0.0}, r"dt_init_floor=0\.0 must be a finite number > 0\. Use dt_init_floor=1e-4"),
        ({"A_init_range": (-1, 16)}, r"A_init_range=\(-1, 16\) must be two finite numbers with 0 < lo <= hi .*Use A_init_range=\(1, 16\)"),
        ({"A_init_range": (0, 16)}, r"A_init_range=\(0, 16\) must be"),
        ({"A_init_range": (16, 1)}, r"A_init_range=\(16, 1\) must be"),
        ({"A_init_range": (1,)}, r"A_init_range=\(1,\) must be"),
    ],
)
def test_constructor_rejects_initialisation_arguments_the_maths_cannot_take(gen_pkg, kwargs, rule):
    with pytest.raises(ValueError, match=rule):
        _cls(gen_pkg)(_d_model(gen_pkg), **kwargs)


def test_valid_initialisation_arguments_still_build_a_block_with_finite_parameters(gen_pkg):
    block = _cls(gen_pkg)(_d_model(gen_pkg), dt_min=0.01, dt_max=0.02, A_init_range=(2, 3))
    for name, p in block.named_parameters():
        assert torch.isfinite(p).all(), name
    A = torch.exp(block.A_log.float())
    assert ((A >= 2) & (A <= 3)).all()
