# generated from examples/vision-mamba2-bidirectional.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: ecdc1a8c1f3908dbc9b3232a151982a82ea56e47204e629702db577caff5a69c
"""VisionMamba2BidirectionalBlock: the vision Mamba-2 block generated from examples/vision-mamba2-bidirectional.ts.

VMamba's SS2D on Mamba-2's SSD scan. forward(x) takes an image of tokens,
[batch, 6, 10, d_model=64] (channels last), and returns the same shape:
in_proj -> (x, z); depthwise 3x3 conv2d (padding 'same') + SiLU on x;
x_proj: for each of the 2 scan orders its own dt, B and C; the bidirectional
scan (cross_scan.cross_scan_combined: 2 orders, row-major and its reverse, each order with its own
dt_bias, A and D, walked through index maps with no permuted copy, summed in
natural token order); RMSNorm, then the gate * silu(z); out_proj. Tokens are
the image row-major (t = i * width + j). Only torch and Triton are needed; on
CPU set TRITON_INTERPRET=1 before importing.

The kernels and the parameter layout were generated for
    d_model=64, height=6, width=10, expand=2, headdim=32, d_state=16,
    ngroups=1, d_conv=3, bias=False, conv_bias=True
and passing other values raises ValueError (change the model file and run
`pnpm gen` instead).
"""
from __future__ import annotations

import math
from typing import Optional, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

# the autograd wrappers run the plain forward kernels when nothing needs a
# gradient, and the backward kernels when something does
from .conv2d_autograd import depthwise_conv2d_autograd as depthwise_conv2d
from .cross_scan import cross_scan_combined
from .autograd import rmsnorm_gated_autograd as rmsnorm_gated

_SOURCE = "examples/vision-mamba2-bidirectional.ts"
_DIRECTIONS = "bidirectional"
_ORDERS = 2


def _require(arg, given, generated):
    if given != generated:
        raise ValueError(
            "VisionMamba2BidirectionalBlock: got " + arg + "=" + repr(given) + ", but this package was generated for "
            + arg + "=" + repr(generated) + " and its kernels are specialised for it. Pass "
            + arg + "=" + repr(generated) + ", or change it in " + _SOURCE
            + " and regenerate with `pnpm gen`."
        )


def _check_init(dt_min: float, dt_max: float, dt_init_floor: float, A_init_range: Tuple[float, float]) -> None:
    """The initialisation arguments, checked before any maths runs on them."""
    try:
        lo, hi = (float(v) for v in A_init_range)
    except (TypeError, ValueError):
        lo = hi = math.nan
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo <= hi):
        raise ValueError(
            "VisionMamba2BidirectionalBlock: A_init_range=" + repr(A_init_range) + " must be two finite numbers with 0 < lo <= hi "
            "(A is drawn uniformly from it and A_log = log(A)). Use A_init_range=(1, 16), the seed's default."
        )
    if not (math.isfinite(dt_min) and math.isfinite(dt_max) and 0 < dt_min <= dt_max):
        raise ValueError(
            "VisionMamba2BidirectionalBlock: dt_min=" + repr(dt_min) + ", dt_max=" + repr(dt_max) + " must satisfy "
            "0 < dt_min <= dt_max (dt is drawn log-uniformly between them). Use dt_min=0.001, dt_max=0.1, the seed's defaults."
        )
    if not (math.isfinite(dt_init_floor) and dt_init_floor > 0):
        raise ValueError(
            "VisionMamba2BidirectionalBlock: dt_init_floor=" + repr(dt_init_floor) + " must be a finite number > 0. "
            "Use dt_init_floor=1e-4, the seed's default."
        )


def _check_input(x: torch.Tensor, height: int, width: int, d_model: int) -> int:
    """x must be [batch, height, width, d_model]; returns batch."""
    if isinstance(x, torch.Tensor) and tuple(x.shape[1:]) == (height, width, d_model) and x.dim() == 4:
        return x.shape[0]
    got = "a " + type(x).__name__
    hint = ""
    if isinstance(x, torch.Tensor):
        got = "shape " + str(tuple(x.shape))
        if x.dim() == 3 and x.shape[1] == height * width and x.shape[-1] == d_model:
            hint = " For flattened tokens [batch, height*width, d_model] use x.unflatten(1, (height, width))."
        elif x.dim() == 4 and x.shape[1] == d_model:
            hint = " For a channels-first image [batch, d_model, height, width] use x.permute(0, 2, 3, 1)."
    raise ValueError(
        "VisionMamba2BidirectionalBlock.forward: x must be a [batch, height=" + str(height) + ", width=" + str(width) + ", d_model="
        + str(d_model) + "] tensor, got " + got + "." + hint
    )


class _OrderProjection(nn.Module):
    """Holds `weight` [orders, nheads + 2*ngroups*d_state, d_inner]: order k's dt, B, C = x W_k^T
    (VMamba's x_proj_weight); each W_k initialised as nn.Linear's."""

    def __init__(self, orders, out_features, in_features, device=None, dtype=None):
        super().__init__()
        bound = 1.0 / math.sqrt(in_features)
        self.weight = nn.Parameter(
            torch.empty(orders, out_features, in_features, device=device, dtype=dtype).uniform_(-bound, bound)
        )


class _NormWeight(nn.Module):
    """Holds `weight` (and eps) like the seed's RMSNormGated; the maths is in kernels.norm."""

    def __init__(self, d, eps, device=None, dtype=None):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d, device=device, dtype=dtype))


class VisionMamba2BidirectionalBlock(nn.Module):
    def __init__(
        self,
        d_model: int,
        height: int = 6,
        width: int = 10,
        d_state: int = 16,
        d_conv: int = 3,
        conv_init: Optional[float] = None,
        expand: float = 2,
        headdim: int = 32,
        ngroups: int = 1,
        A_init_range: Tuple[float, float] = (1, 16),
        dt_min: float = 0.001,
        dt_max: float = 0.1,
        dt_init_floor: float = 0.0001,
        dt_limit: Tuple[float, float] = (0.0, float("inf")),
        bias: bool = False,
        conv_bias: bool = True,
        chunk_size: Optional[int] = None,
        layer_idx: Optional[int] = None,
        device: Optional[Union[torch.device, str]] = None,
        dtype: Optional[torch.dtype] = None,
    ) -> None:
        factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__()
        _require("d_model", d_model, 64)
        _require("height", height, 6)
        _require("width", width, 10)
        _require("expand", expand, 2)
        _require("headdim", headdim, 32)
        _require("d_state", d_state, 16)
        _require("ngroups", ngroups, 1)
        _require("d_conv", d_conv, 3)
        _require("bias", bias, False)
        _require("conv_bias", conv_bias, True)
        _check_init(dt_min, dt_max, dt_init_floor, A_init_range)
        self.d_model = d_model
        self.height = height
        self.width = width
        self.d_state = d_state
        self.d_conv = d_conv
        self.conv_init = conv_init
        self.expand = expand
        self.d_inner = 128
        self.headdim = headdim
        self.ngroups = ngroups
        self.nheads = 4
        self.directions = _DIRECTIONS
        self.orders = _ORDERS
        self.dt_limit = tuple(dt_limit)
        self.chunk_size = chunk_size
        self.layer_idx = layer_idx

        self.in_proj = nn.Linear(self.d_model, 256, bias=bias, **factory_kwargs)
        self.conv2d = nn.Conv2d(
            in_channels=self.d_inner,
            out_channels=self.d_inner,
            kernel_size=d_conv,
            padding=d_conv // 2,
            groups=self.d_inner,
            bias=conv_bias,
            **factory_kwargs,
        )
        if self.conv_init is not None:
            nn.init.uniform_(self.conv2d.weight, -self.conv_init, self.conv_init)
        self.x_proj = _OrderProjection(_ORDERS, 36, self.d_inner, **factory_kwargs)

        # per order and head: dt log-uniform in [dt_min, dt_max], floored, stored as its inverse softplus
        dt = torch.exp(
            torch.rand(_ORDERS * self.nheads, **factory_kwargs) * (math.log(dt_max) - math.log(dt_min))
            + math.log(dt_min)
        )
        dt = torch.clamp(dt, min=dt_init_floor)
        inv_dt = dt + torch.log(-torch.expm1(-dt))
        self.dt_bias = nn.Parameter(inv_dt)
        self.dt_bias._no_weight_decay = True

        A = torch.empty(_ORDERS * self.nheads, dtype=torch.float32, device=device).uniform_(*A_init_range)
        self.A_log = nn.Parameter(torch.log(A).to(dtype=dtype))
        self.A_log._no_weight_decay = True
        self.D = nn.Parameter(torch.ones(_ORDERS * self.nheads, device=device))
        self.D._no_weight_decay = True
        self.norm = _NormWeight(self.d_inner, eps=0.00001, **factory_kwargs)
        self.out_proj = nn.Linear(self.d_inner, self.d_model, bias=bias, **factory_kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [B, height, width, d_model] -> [B, height, width, d_model]."""
        batch = _check_input(x, self.height, self.width, self.d_model)
        H, W, L = self.height, self.width, self.height * self.width
        xz = F.linear(x.reshape(batch, L, self.d_model), self.in_proj.weight, self.in_proj.bias)
        # Views into xz (last dim contiguous): the kernels take strides, nothing is copied.
        xs = xz[..., 0:128]
        z = xz[..., 128:256]
        xs = depthwise_conv2d(
            xs.unflatten(1, (H, W)), self.conv2d.weight, self.conv2d.bias, activation="silu"
        ).reshape(batch, L, self.d_inner)
        # every order's dt, B, C in one matmul: [B, orders, L, nheads + 2*ngroups*d_state]
        x_dbl = torch.einsum("bld,kcd->bklc", xs, self.x_proj.weight)
        dt = x_dbl[..., 0:4]
        B = x_dbl[..., 4:20].unflatten(-1, (1, 16))
        C = x_dbl[..., 20:36].unflatten(-1, (1, 16))
        A = -torch.exp(self.A_log.float()).view(_ORDERS, self.nheads)
        y = cross_scan_combined(
            xs.unflatten(-1, (4, 32)),
            dt,
            A,
            B,
            C,
            H,
            W,
            _DIRECTIONS,
            D=self.D.view(_ORDERS, self.nheads),
            z=None,
            dt_bias=self.dt_bias.view(_ORDERS, self.nheads),
            dt_softplus=True,
            dt_limit=self.dt_limit,
            chunk_size=self.chunk_size,
        )
        y = y.reshape(batch, L, self.d_inner)
        y = rmsnorm_gated(y, self.norm.weight, z=z, eps=self.norm.eps, group_size=None, norm_before_gate=True)
        out = F.linear(y, self.out_proj.weight, self.out_proj.bias)
        return out.reshape(batch, H, W, self.d_model)
