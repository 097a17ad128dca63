# generated from examples/vision-mamba2.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 973d21e2cf8d81c0e01a13580d2634dea1d19fba039c3bddcd8ee47c7c19c7c4
# copied from packages/kernels/python/mamba2_kernels/conv2d_autograd.py
"""torch.autograd wrapper of the depthwise 2-D conv (kernels/conv2d.py, conv2d_bwd.py).

depthwise_conv2d_autograd calls the plain forward kernel when nothing needs a
gradient, and otherwise a torch.autograd.Function whose backward runs
kernels/conv2d_bwd.py (deterministic: partials reduced by torch.sum). Kept
apart from autograd.py so a sequence model's package does not carry it.
"""
from __future__ import annotations

import torch

from .autograd import needs_grad
from .kernels.conv2d import depthwise_conv2d
from .kernels.conv2d_bwd import depthwise_conv2d_bwd


class DepthwiseConv2dFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, activation):
        out = depthwise_conv2d(x, weight, bias, activation=activation)
        ctx.save_for_backward(x, weight, bias)
        ctx.activation = activation
        return out

    @staticmethod
    def backward(ctx, dout):
        x, weight, bias = ctx.saved_tensors
        dx, dw, db = depthwise_conv2d_bwd(dout, x, weight, bias, activation=ctx.activation)
        return (
            dx.to(x.dtype),
            dw.reshape(weight.shape).to(weight.dtype),
            None if bias is None else db.to(bias.dtype),
            None,
        )


def depthwise_conv2d_autograd(x, weight, bias=None, activation="silu"):
    """depthwise_conv2d with a backward. x: [B, H, W, C], weight: [C, KH, KW] or
    nn.Conv2d's [C, 1, KH, KW], bias: [C] | None; activation "silu" | "identity"."""
    if not needs_grad(x, weight, bias):
        return depthwise_conv2d(x, weight, bias, activation=activation)
    return DepthwiseConv2dFunction.apply(x, weight, bias, activation)
