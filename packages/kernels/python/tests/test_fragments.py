"""Fragments (mamba2_kernels/fragments.py): @triton.jit functions defined
outside the kernels flow through them with no kernel edit.

Each test defines a fragment the library does not have, runs a library
kernel with it, and compares with the float64 reference
(mamba2_runner.reference) composed with the same function written in torch.
Error: ||out - ref|| / ||ref|| (mamba2_runner.checks.rel_err; NaN/inf never
pass). Tolerances: conv and dt 1e-5 on CPU (exact fp32), scan 1e-4 on CPU,
2e-3 on CUDA (tf32 dots). Outputs are poisoned (conftest.poison).
"""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from mamba2_runner.pkgload import select_device
from mamba2_runner.reference.ops import ref_causal_conv1d
from mamba2_runner.reference.scan import ref_scan
from mamba2_runner.checks import rel_err

DEVICE = select_device()

import triton  # noqa: E402
import triton.language as tl  # noqa: E402

import mamba2_kernels  # noqa: E402
from mamba2_kernels import _fragments, fragments  # noqa: E402
from mamba2_kernels.kernels.conv import causal_conv1d  # noqa: E402
from mamba2_kernels.kernels.dt import dt_transform  # noqa: E402
from mamba2_kernels.kernels.ssd_chunked import ssd_chunked_fwd  # noqa: E402
from mamba2_kernels.kernels.ssd_fused import ssd_fused_fwd  # noqa: E402

pytestmark = pytest.mark.usefixtures("poison")

SCAN_TOL = 1e-4 if DEVICE == "cpu" else 2e-3


@triton.jit
def squared_relu(v):
    r = tl.maximum(v, 0.0)
    return r * r


@triton.jit
def half_softplus_chain(v, bias, lo, hi, HAS_DT_BIAS: tl.constexpr, DT_SOFTPLUS: tl.constexpr):
    """A dt chain the library does not have: 0.5 * softplus(v + bias), clamped."""
    return fragments.clamp(0.5 * fragments.softplus_f32(v + bias), lo, hi)


@triton.jit
def sigmoid_gate_epilogue(y, x, D, z, HAS_D: tl.constexpr, HAS_Z: tl.constexpr):
    """An epilogue the library does not have: (y + D x) * sigmoid(z)."""
    y += x.to(tl.float32) * D
    return y * tl.sigmoid(z)


def _scan_inputs(b=2, l=40, h=4, p=16, g=2, n=16):
    x = torch.randn(b, l, h, p, device=DEVICE)
    dt = torch.randn(b, l, h, device=DEVICE) - 2.0
    A = -torch.exp(torch.empty(h, device=DEVICE).uniform_(math.log(0.05), math.log(2.0)))
    B = torch.randn(b, l, g, n, device=DEVICE)
    C = torch.randn(b, l, g, n, device=DEVICE)
    return x, dt, A, B, C


def test_a_conv_activation_defined_outside_the_library_runs_in_the_conv_kernel(device):
    x = torch.randn(2, 37, 40, device=device)
    w = torch.randn(40, 4, device=device) / 2
    bias = torch.randn(40, device=device)
    out = causal_conv1d(x, w, bias, activation=squared_relu)
    ref = torch.relu(ref_causal_conv1d(x, w, bias, "identity").double()) ** 2
    assert rel_err(out, ref) <= 1e-5


def test_a_dt_chain_defined_outside_the_library_runs_in_the_dt_kernel(device):
    dt = torch.randn(2, 33, 8, device=device) * 4
    bias = torch.randn(8, device=device)
    out = dt_transform(dt, bias, softplus=True, limit=(1e-3, 0.4), chain=half_softplus_chain)
    ref = (0.5 * F.softplus(dt.double() + bias.double())).clamp(1e-3, 0.4)
    assert rel_err(out, ref) <= 1e-5


@pytest.mark.parametrize("scan", [ssd_fused_fwd, ssd_chunked_fwd], ids=["fused", "chunked"])
def test_a_dt_chain_and_an_epilogue_defined_outside_the_library_run_in_the_scan(device, scan):
    x, dt, A, B, C = _scan_inputs()
    D = torch.randn(x.shape[2], device=device)
    z = torch.randn_like(x)
    bias = torch.rand(x.shape[2], device=device) - 0.5
    out, _ = scan(x, dt, A, B, C, 16, D=D, z=z, dt_bias=bias, dt_softplus=True, dt_limit=(0.0, math.inf),
                  dt_chain=half_softplus_chain, epilogue=sigmoid_gate_epilogue)
    # the reference: the same dt chain in torch, the scan with D, then the sigmoid gate
    dt_ref = 0.5 * F.softplus(dt.double() + bias.double())
    y = ref_scan(x, dt_ref, A, B, C, D=D, dt_limit=(-math.inf, math.inf))
    ref = y * torch.sigmoid(z.double())
    assert rel_err(out, ref) <= SCAN_TOL


def test_the_model_fragment_serves_only_the_calls_it_was_built_for(device, monkeypatch):
    """A generated package's _fragments.py names the flags its dt chain was
    built for; a call with those flags gets it, any other call the standard chain."""
    monkeypatch.setattr(_fragments, "DT_CHAIN", half_softplus_chain)
    monkeypatch.setattr(_fragments, "DT_CHAIN_SERVES", {"HAS_DT_BIAS": True, "DT_SOFTPLUS": True})
    x, dt, A, B, C = _scan_inputs()
    bias = torch.rand(x.shape[2], device=device) - 0.5
    model = mamba2_kernels.mamba_chunk_scan_combined(x, dt, A, B, C, 16, dt_bias=bias, dt_softplus=True)
    ref_model = ref_scan(x, 0.5 * F.softplus(dt.double() + bias.double()), A, B, C)
    assert rel_err(model, ref_model) <= SCAN_TOL
    other = mamba2_kernels.mamba_chunk_scan_combined(x, dt, A, B, C, 16, dt_bias=bias, dt_softplus=False,
                                                     dt_limit=(0.0, 0.5))
    ref_other = ref_scan(x, dt, A, B, C, dt_bias=bias, dt_softplus=False, dt_limit=(0.0, 0.5))
    assert rel_err(other, ref_other) <= SCAN_TOL


def test_an_unknown_conv_activation_name_is_refused_naming_the_choices(device):
    x = torch.randn(1, 4, 8, device=device)
    with pytest.raises(ValueError, match=r"activation must be one of 'silu', 'swish', 'identity' or a @triton.jit"):
        causal_conv1d(x, torch.randn(8, 4, device=device), activation="gelu")
