"""mamba2_runner.checks: the one relative-error measure and the pass/fail rule."""
from __future__ import annotations

import math

import pytest
import torch

from mamba2_runner.checks import passes, rel_err, rel_errs, worst


def test_rel_err_is_the_two_norm_of_the_difference_over_the_two_norm_of_the_reference():
    ref = torch.randn(5, 7, dtype=torch.float64)
    noise = torch.randn(5, 7, dtype=torch.float64)
    got = (ref + 1e-3 * noise).to(torch.float32)
    want = (got.double() - ref).norm().item() / ref.norm().item()
    assert rel_err(got, ref) == pytest.approx(want, rel=1e-12)
    assert 1e-4 < rel_err(got, ref) < 1e-2


def test_a_nan_or_inf_anywhere_in_the_output_never_passes():
    ref = torch.randn(64)
    for bad in (float("nan"), float("inf"), -float("inf")):
        got = ref.clone()
        got[17] = bad
        err = rel_err(got, ref)
        assert math.isnan(err)
        assert not passes(err, 1e9)
    assert not passes(None, 1.0)
    assert not passes(math.inf, math.inf)
    assert passes(rel_err(ref, ref), 0.0)


def test_an_all_zero_reference_falls_back_to_the_absolute_error():
    assert rel_err(torch.full((4,), 0.5), torch.zeros(4)) == pytest.approx(1.0)


def test_a_shape_mismatch_is_an_error_not_a_broadcast():
    with pytest.raises(ValueError, match="shape"):
        rel_err(torch.randn(3, 1), torch.randn(3, 4))


def test_per_tensor_errors_mark_a_missing_or_misshapen_tensor_as_nan_and_the_worst_is_nan():
    ref = {"a": torch.randn(3), "b": torch.randn(2, 2), "c": torch.randn(4)}
    errs = rel_errs({"a": ref["a"] * 1.1, "b": ref["b"][:1]}, ref)
    assert errs["a"] == pytest.approx(0.1, rel=1e-6)
    assert math.isnan(errs["b"]) and math.isnan(errs["c"])
    assert math.isnan(worst(errs))
    assert worst({"a": 0.1, "b": 0.3}) == 0.3 and worst({}) == 0.0
