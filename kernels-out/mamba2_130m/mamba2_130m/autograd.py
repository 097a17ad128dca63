# generated from examples/mamba2-130m.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: c65e08f6667234bed7456751cb78c3aca957c216835fd09082ab28d4c035a5f9
# copied from packages/kernels/python/mamba2_kernels/autograd.py
"""torch.autograd wrappers of the generated ops: training through the Triton kernels.

ssd_scan_autograd (same arguments as mamba_chunk_scan_combined),
causal_conv1d_autograd and rmsnorm_gated_autograd call the plain forward op
when no input requires grad (or grad mode is off), and otherwise a
torch.autograd.Function whose backward runs the generated backward kernels
(kernels/ssd_bwd.py, conv_bwd.py, norm_bwd.py). Backward passes are
deterministic: cross-program sums are partials reduced by torch.sum.
"""
from __future__ import annotations

import math

import torch

from . import custom_ops as _custom_ops
from . import functional as _functional
from .kernels.conv import causal_conv1d
from .kernels.conv_bwd import causal_conv1d_bwd
from .kernels.ssd_bwd import ssd_bwd

try:  # a model without a norm generates no norm kernels
    from .kernels.norm import rmsnorm_gated
    from .kernels.norm_bwd import rmsnorm_gated_bwd
except ImportError:  # pragma: no cover - depends on the model
    rmsnorm_gated = rmsnorm_gated_bwd = None


def needs_grad(*tensors) -> bool:
    """True when autograd must record: grad mode on and some input requires grad."""
    return torch.is_grad_enabled() and any(
        isinstance(t, torch.Tensor) and t.requires_grad for t in tensors
    )


def _grad_as(g, t):
    """g in t's dtype (None when t is None or g is None)."""
    if g is None or t is None:
        return None
    return g.to(t.dtype)


class SsdScanFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, dt, A, B, C, D, z, dt_bias, initial_states, seq_idx,
                chunk_size, dt_softplus, dt_limit, impl):
        scan = _functional.scan_kernel(impl)
        out, final = scan(
            x, dt, A, B, C, chunk_size, D=D, z=z, dt_bias=dt_bias, initial_states=initial_states,
            seq_idx=seq_idx, dt_softplus=dt_softplus, dt_limit=dt_limit, return_final_states=True,
        )
        ctx.save_for_backward(x, dt, A, B, C, D, z, dt_bias, initial_states, seq_idx)
        ctx.dt_softplus = dt_softplus
        ctx.dt_limit = dt_limit
        ctx.set_materialize_grads(False)
        return out, final

    @staticmethod
    def backward(ctx, dout, dfinal):
        x, dt, A, B, C, D, z, dt_bias, initial_states, seq_idx = ctx.saved_tensors
        if dout is None:
            dout = torch.zeros_like(x)
        g = ssd_bwd(
            dout, x, dt, A, B, C, D=D, z=z, dt_bias=dt_bias, initial_states=initial_states,
            seq_idx=seq_idx, dt_softplus=ctx.dt_softplus, dt_limit=ctx.dt_limit, dfinal_states=dfinal,
        )
        return (
            _grad_as(g["dx"], x), _grad_as(g["ddt"], dt), _grad_as(g["dA"], A),
            _grad_as(g["dB"], B), _grad_as(g["dC"], C), _grad_as(g["dD"], D),
            _grad_as(g["dz"], z), _grad_as(g["ddt_bias"], dt_bias),
            _grad_as(g["dinitial_states"], initial_states),
            None, None, None, None, None,
        )


def ssd_scan_autograd(
    x, dt, A, B, C, chunk_size, D=None, z=None, dt_bias=None, initial_states=None,
    seq_idx=None, dt_softplus=False, dt_limit=(0.0, math.inf), return_final_states=False,
    *, impl=None,
):
    """mamba_chunk_scan_combined with a backward (same arguments and returns).

    x: [b, l, h, p], dt: [b, l, h], A: [h], B, C: [b, l, g, n], D: [h] or [h, p],
    z: [b, l, h, p], dt_bias: [h], initial_states: [b, h, p, n], seq_idx: [b, l] int32.
    Gradients flow to x, dt, A, B, C, D, z, dt_bias, initial_states (and from
    final_states when it is returned and used).
    """
    lo, hi = _functional._check_inputs(
        x, dt, A, B, C, chunk_size, D, z, dt_bias, initial_states, seq_idx, dt_limit
    )
    if needs_grad(x, dt, A, B, C, D, z, dt_bias, initial_states):
        out, final = SsdScanFunction.apply(
            x, dt, A, B, C, D, z, dt_bias, initial_states, seq_idx,
            chunk_size, bool(dt_softplus), (lo, hi), impl,
        )
    else:
        out, final = _functional.scan_kernel(impl)(
            x, dt, A, B, C, chunk_size, D=D, z=z, dt_bias=dt_bias, initial_states=initial_states,
            seq_idx=seq_idx, dt_softplus=dt_softplus, dt_limit=(lo, hi),
            return_final_states=return_final_states,
        )
    return (out, final) if return_final_states else out


class CausalConv1dFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, activation):
        out = causal_conv1d(x, weight, bias, activation=activation)
        ctx.save_for_backward(x, weight, bias)
        ctx.activation = activation
        return out

    @staticmethod
    def backward(ctx, dout):
        x, weight, bias = ctx.saved_tensors
        dx, dw, db = causal_conv1d_bwd(dout, x, weight, bias, activation=ctx.activation)
        return _grad_as(dx, x), _grad_as(dw, weight), _grad_as(db, bias), None


def causal_conv1d_autograd(x, weight, bias=None, activation="silu", seq_idx=None):
    """causal_conv1d with a backward. x: [B, L, C], weight: [C, W] or [C, 1, W], bias: [C] | None.
    seq_idx [B, L]: the window stops at sequence starts (kernels/conv_varlen.py, via its custom op)."""
    if seq_idx is not None or torch.compiler.is_compiling():  # torch.compile: opaque custom ops
        return _custom_ops.causal_conv1d(x, weight, bias, activation=activation, seq_idx=seq_idx)
    if not needs_grad(x, weight, bias):
        return causal_conv1d(x, weight, bias, activation=activation)
    if weight.dim() == 3 and weight.shape[1] == 1:
        weight = weight[:, 0, :]  # a view: the gradient reaches the [C, 1, W] parameter
    return CausalConv1dFunction.apply(x, weight, bias, activation)


class RMSNormGatedFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, y, weight, z, eps, group_size, norm_before_gate):
        out = rmsnorm_gated(y, weight, z=z, eps=eps, group_size=group_size, norm_before_gate=norm_before_gate)
        ctx.save_for_backward(y, weight, z)
        ctx.opts = (eps, group_size, norm_before_gate)
        return out

    @staticmethod
    def backward(ctx, dout):
        y, weight, z = ctx.saved_tensors
        eps, group_size, norm_before_gate = ctx.opts
        dy, dz, dw = rmsnorm_gated_bwd(
            dout, y, weight, z=z, eps=eps, group_size=group_size, norm_before_gate=norm_before_gate
        )
        return _grad_as(dy, y), _grad_as(dw, weight), _grad_as(dz, z), None, None, None


def rmsnorm_gated_autograd(y, weight, z=None, eps=1e-5, group_size=None, norm_before_gate=False):
    """rmsnorm_gated with a backward. y, z: [B, L, D], weight: [D]."""
    if rmsnorm_gated is None:
        raise RuntimeError("this package was generated without a norm: it has no rmsnorm_gated kernel")
    if torch.compiler.is_compiling():  # torch.compile: the kernels as opaque custom ops
        return _custom_ops.rmsnorm_gated(y, weight, z=z, eps=eps, group_size=group_size,
                                         norm_before_gate=norm_before_gate)
    if not needs_grad(y, weight, z):
        return rmsnorm_gated(y, weight, z=z, eps=eps, group_size=group_size, norm_before_gate=norm_before_gate)
    return RMSNormGatedFunction.apply(y, weight, z, eps, group_size, norm_before_gate)
