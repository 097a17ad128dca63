"""The CPU runs' shortcut in Triton's interpreter (interp_speedup.py): in
place on the pinned Triton, and a launch whose kernel calls a @triton.jit
helper still computes what the helper says and leaves triton.language
unpatched after it."""
from __future__ import annotations

import os

import pytest
import torch

from mamba2_runner.pkgload import select_device

DEVICE = select_device()

import triton  # noqa: E402
import triton.language as tl  # noqa: E402

import interp_speedup  # noqa: E402


@triton.jit
def _twice_plus_one(v):
    return v * 2.0 + 1.0


@triton.jit
def _helper_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    o = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = o < n
    tl.store(y_ptr + o, _twice_plus_one(tl.load(x_ptr + o, mask=m)), mask=m)


def test_on_cpu_the_shortcut_is_in_place_and_a_helper_call_inside_a_launch_computes_as_written(device):
    if device != "cpu" or os.environ.get("MAMBA2_INTERP_SHORTCUT") == "0":
        pytest.skip("the shortcut is for Triton's interpreter (CPU runs), and MAMBA2_INTERP_SHORTCUT=0 turns it off")
    assert interp_speedup.install(), (
        f"interp_speedup did not install on triton {triton.__version__} (written for "
        f"{interp_speedup.TRITON_VERSION}): check that its two patch points still exist, then update the pin")
    x = torch.randn(37)
    y = torch.full_like(x, float("nan"))
    _helper_kernel[(3,)](x, y, 37, BLOCK=16)
    assert torch.equal(y, x * 2.0 + 1.0)
    # the launch's restore ran: tl's builtins are Triton's own again, not the interpreter's wrappers
    assert tl.core.is_builtin(tl.load) and tl.core.is_builtin(tl.arange)
