# generated from examples/mamba2-layer-dssm.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 6b506ed2d21581e9224bb0cf9eb0bc4a8c5edcd8d3b57ffda137018a416ffd5d
# copied from packages/kernels/python/mamba2_kernels/block.py
"""The Mamba-2 block between in_proj and out_proj: split, conv + activation,
SSD scan, gated RMSNorm (and mamba_ssm Mamba2's gated MLP channels), as one call.

mamba_split_conv1d_scan takes in_proj's output zxbcdt and a DecodeLayout (the
columns of z0, x0, z, xBC, dt in zxbcdt and of x, B, C in the conv's output;
the decode step uses the same one). For training it runs one
torch.autograd.Function whose forward cuts zxbcdt into views (no copies) and
whose backward allocates ONE gradient buffer d_zxbcdt and has every kernel
write its columns in place:
    the norm backward writes dz into d_zxbcdt[..., z] (rows strided);
    the conv backward reads the scan's dx, dB, dC where they lie (three
    pieces, dB and dC in fp32, no cat and no bf16 rounding on the way) and
    writes dxBC into d_zxbcdt[..., xBC];
    ddt (fp32 [b, l, h], 0.2% of the buffer) and, when the scan gates with z,
    dz are copied into their columns (one small strided copy each).
Composing the per-op autograd wrappers instead costs two torch.split
backwards (a cat of dz, dxBC, ddt and one of dx, dB, dC) and the fp32 ->
bf16 casts of dB, dC, ddt before them (NOTES.md, "Block glue without split cats").

The composition is still what runs where the Function does not apply: no
gradient needed, torch.compile (the custom ops of custom_ops.py, which have
their own backward), seq_idx / cu_seqlens (the varlen conv's backward) and
returned final states (inference_params); it computes the same values.
"""
from __future__ import annotations

import math
import os

import torch
import torch.nn.functional as F

from . import autograd as _autograd
from . import custom_ops as _custom_ops
from . import functional as _functional
from .kernels.conv import causal_conv1d
from .kernels.conv_bwd import causal_conv1d_bwd
from .kernels.ssd_bwd import ssd_bwd

_grad_as = _autograd._grad_as

# False (env MAMBA2_BLOCK_FUSED=0): always the composition, for A/B timing of the two
# (scripts/gpu/block_profile.py --ab sets it per run); the values are the same.
FUSED = os.environ.get("MAMBA2_BLOCK_FUSED", "1") != "0"


def _cols(t, span):
    return t[..., span[0]:span[1]]


def _split(t, spans):
    """Views of t's last dim at spans (start, stop) | None. Spans that tile it in order
    become one torch.split, whose backward is one cat (a slice each would have autograd
    add a zero-filled gradient of the whole width per piece)."""
    present = [s for s in spans if s is not None]
    tiles = present and present[0][0] == 0 and present[-1][1] == t.shape[-1] and all(
        a[1] == b[0] for a, b in zip(present, present[1:]))
    if not tiles:
        return [None if s is None else _cols(t, s) for s in spans]
    pieces = iter(torch.split(t, [s[1] - s[0] for s in present], dim=-1))
    return [None if s is None else next(pieces) for s in spans]


def _mlp(zxbcdt, layout):
    """mamba_ssm Mamba2's channels outside the SSM: silu(z0) * x0."""
    return F.silu(_cols(zxbcdt, layout.z0)) * _cols(zxbcdt, layout.x0)


def _check_layout(zxbcdt, layout, headdim, gate_z, norm_weight, norm_gated):
    width = zxbcdt.shape[-1]
    spans = [("z0", layout.z0), ("x0", layout.x0), ("z", layout.z), ("xBC", layout.xBC), ("dt", layout.dt)]
    for name, s in spans:
        if s is not None and not 0 <= s[0] < s[1] <= width:
            raise ValueError(f"layout.{name} = {s} is outside zxbcdt's {width} columns: pass the layout "
                             "the package was generated with (module.py _DECODE_LAYOUT)")
    conv_dim = layout.xBC[1] - layout.xBC[0]
    if not (layout.x[0] == 0 and layout.x[1] == layout.B[0] and layout.B[1] == layout.C[0]
            and layout.C[1] == conv_dim):
        raise ValueError(f"layout x {layout.x}, B {layout.B}, C {layout.C} must tile the {conv_dim} conv "
                         "channels in that order")
    if (layout.x[1] - layout.x[0]) % headdim:
        raise ValueError(f"x has {layout.x[1] - layout.x[0]} channels, not a multiple of headdim {headdim}")
    if (layout.z0 is None) != (layout.x0 is None):
        raise ValueError(f"layout.z0 {layout.z0} and layout.x0 {layout.x0} must both be given or both None")
    if layout.z is None and (gate_z or (norm_weight is not None and norm_gated)):
        raise ValueError("gate_z or a gated norm needs z: the layout has z=None")
    if gate_z and norm_weight is not None and norm_gated:
        raise ValueError("z gates the scan (gate_z) or the norm (norm_gated), not both")


def _scan_views(xBC, dt_view, layout, headdim, d_state):
    b, l, _ = xBC.shape
    x, B, C = (_cols(xBC, s) for s in (layout.x, layout.B, layout.C))
    ngroups = (layout.B[1] - layout.B[0]) // d_state
    return (x.unflatten(-1, (-1, headdim)), dt_view, B.unflatten(-1, (ngroups, d_state)),
            C.unflatten(-1, (ngroups, d_state)))


class _Opts:
    """The Function's non-tensor arguments (one object: autograd returns None for it)."""

    def __init__(self, **kw):
        self.__dict__.update(kw)


def block_forward(zxbcdt, conv_weight, conv_bias, A, D, dt_bias, initial_states, norm_weight, o):
    """The block's forward from in_proj's output: (out, xBC (the conv's output), y (the scan's
    output before the norm) | None without a norm). Views of zxbcdt, no copies. The autograd
    Function below and the torch.compile op (custom_ops.split_conv_scan) both run this."""
    lay = o.layout
    b, l, _ = zxbcdt.shape
    xBC_in, dt = _cols(zxbcdt, lay.xBC), _cols(zxbcdt, lay.dt)
    z = _cols(zxbcdt, lay.z) if lay.z is not None else None
    xBC = causal_conv1d(xBC_in, conv_weight, conv_bias, activation=o.activation)
    x, dt, B, C = _scan_views(xBC, dt, lay, o.headdim, o.d_state)
    z_scan = z.unflatten(-1, (-1, o.headdim)) if o.gate_z else None
    y, _ = _functional.scan_kernel(o.impl)(
        x, dt, A, B, C, o.chunk_size, D=D, z=z_scan, dt_bias=dt_bias, initial_states=initial_states,
        seq_idx=None, dt_softplus=o.dt_softplus, dt_limit=o.dt_limit, return_final_states=False,
    )
    y = y.reshape(b, l, -1)
    out = y
    if norm_weight is not None:
        out = _autograd.rmsnorm_gated(y, norm_weight, z=z if o.norm_gated else None, eps=o.norm_eps,
                                      group_size=o.norm_group_size, norm_before_gate=o.norm_before_gate)
    if lay.z0 is not None:
        out = torch.cat([_mlp(zxbcdt, lay), out], dim=-1)
    return out, xBC, (y if norm_weight is not None else None)


def block_backward(dout, zxbcdt, conv_weight, conv_bias, A, D, dt_bias, initial_states, norm_weight, xBC, y, o):
    """The gradients (d_zxbcdt, dconv_weight, dconv_bias, dA, dD, ddt_bias, dinitial_states,
    dnorm_weight), each None where its input is None, from what block_forward returned."""
    lay = o.layout
    b, l, width = zxbcdt.shape
    dzx = torch.empty((b, l, width), device=zxbcdt.device, dtype=zxbcdt.dtype)
    written = []  # column spans of dzx written below; the rest (inputs nothing reads) are zeroed
    z = _cols(zxbcdt, lay.z) if lay.z is not None else None
    if lay.z0 is not None:
        d_mlp = lay.z0[1] - lay.z0[0]
        dy0, dout = dout[..., :d_mlp], dout[..., d_mlp:]
        z0, x0 = _cols(zxbcdt, lay.z0).float(), _cols(zxbcdt, lay.x0).float()
        sig = torch.sigmoid(z0)
        dy0 = dy0.float()
        _cols(dzx, lay.x0).copy_(dy0 * z0 * sig)
        _cols(dzx, lay.z0).copy_(dy0 * x0 * sig * (1 + z0 * (1 - sig)))
        written += [lay.z0, lay.x0]
    dnorm_w = None
    if norm_weight is not None:
        z_norm = z if o.norm_gated else None
        dy, _, dnorm_w = _autograd.rmsnorm_gated_bwd(
            dout, y, norm_weight, z=z_norm, eps=o.norm_eps, group_size=o.norm_group_size,
            norm_before_gate=o.norm_before_gate, dz_out=_cols(dzx, lay.z) if z_norm is not None else None,
        )
        if z_norm is not None:
            written.append(lay.z)
    else:
        dy = dout
    x, dt, B, C = _scan_views(xBC, _cols(zxbcdt, lay.dt), lay, o.headdim, o.d_state)
    z_scan = z.unflatten(-1, (-1, o.headdim)) if o.gate_z else None
    g = ssd_bwd(
        dy.reshape(x.shape), x, dt, A, B, C, D=D, z=z_scan, dt_bias=dt_bias, initial_states=initial_states,
        seq_idx=None, dt_softplus=o.dt_softplus, dt_limit=o.dt_limit, dfinal_states=None,
    )
    if o.gate_z:
        _cols(dzx, lay.z).copy_(g["dz"].reshape(b, l, -1))
        written.append(lay.z)
    _cols(dzx, lay.dt).copy_(g["ddt"])
    _, dw, db = causal_conv1d_bwd(
        tuple(g[k].reshape(b, l, -1) for k in ("dx", "dB", "dC")), _cols(zxbcdt, lay.xBC), conv_weight,
        conv_bias, activation=o.activation, dx_out=_cols(dzx, lay.xBC),
    )
    written += [lay.dt, lay.xBC]
    at = 0
    for s in sorted(written):
        if s[0] > at:
            dzx[..., at:s[0]].zero_()
        at = max(at, s[1])
    if at < width:
        dzx[..., at:].zero_()
    return (dzx, _grad_as(dw, conv_weight), _grad_as(db, conv_bias), _grad_as(g["dA"], A),
            _grad_as(g["dD"], D), _grad_as(g["ddt_bias"], dt_bias),
            _grad_as(g["dinitial_states"], initial_states), _grad_as(dnorm_w, norm_weight))


class SplitConvScanFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, zxbcdt, conv_weight, conv_bias, A, D, dt_bias, initial_states, norm_weight, o):
        out, xBC, y = block_forward(zxbcdt, conv_weight, conv_bias, A, D, dt_bias, initial_states, norm_weight, o)
        ctx.save_for_backward(zxbcdt, conv_weight, conv_bias, A, D, dt_bias, initial_states, norm_weight, xBC, y)
        ctx.o = o
        return out

    @staticmethod
    def backward(ctx, dout):
        return (*block_backward(dout, *ctx.saved_tensors, ctx.o), None)


def mamba_split_conv1d_scan(
    zxbcdt, conv_weight, conv_bias, A, layout, chunk_size, *, headdim, d_state, D=None, dt_bias=None,
    dt_softplus=False, dt_limit=(0.0, math.inf), initial_states=None, seq_idx=None, cu_seqlens=None,
    activation="silu", gate_z=False, norm_weight=None, norm_eps=1e-5, norm_group_size=None, norm_gated=True,
    norm_before_gate=False, return_final_states=False, return_varlen_states=False, impl=None,
):
    """The block from in_proj's output to out_proj's input.

    zxbcdt: [b, l, d_in_proj] (last dim contiguous); layout: kernels.ssd_decode.DecodeLayout
    (z0, x0, z, xBC, dt: columns of zxbcdt; x, B, C: conv channels, in that order);
    conv_weight [conv_dim, W], conv_bias [conv_dim] | None, A [h] (= -exp(A_log)),
    D [h] | [h, headdim], dt_bias [h], initial_states [b, h, headdim, d_state];
    seq_idx, cu_seqlens, return_*_states as for mamba_chunk_scan_combined.
    activation: the conv's ("silu" | "identity"); gate_z: out = (y + D x) * silu(z) in the scan;
    norm_weight: gated RMSNorm after it (z when norm_gated) | None: no norm.

    Returns y [b, l, d_inner] (silu(z0) * x0 in front when the layout has z0), or
    (y, final_states) / (y, varlen_states) as mamba_chunk_scan_combined.
    """
    _check_layout(zxbcdt, layout, headdim, gate_z, norm_weight, norm_gated)
    b, l, _ = zxbcdt.shape
    lo, hi = dt_limit
    lo = -math.inf if lo is None else float(lo)
    hi = math.inf if hi is None else float(hi)
    compiling = torch.compiler.is_compiling()
    fused = (
        FUSED and (compiling or _autograd.needs_grad(zxbcdt, conv_weight, conv_bias, A, D, dt_bias, initial_states,
                                                     norm_weight))
        and seq_idx is None and cu_seqlens is None and not return_final_states and not return_varlen_states
        and (norm_weight is None or _autograd.rmsnorm_gated_bwd is not None)
        and (not compiling or activation in ("silu", "swish", "identity", None))
    )
    if fused:
        x, dt, B, C = _scan_views(_cols(zxbcdt, layout.xBC), _cols(zxbcdt, layout.dt), layout, headdim, d_state)
        z = _cols(zxbcdt, layout.z).unflatten(-1, (-1, headdim)) if gate_z else None
        lo, hi = _functional._check_inputs(x, dt, A, B, C, chunk_size, D, z, dt_bias, initial_states, None,
                                           (lo, hi))
        if conv_weight.dim() == 3 and conv_weight.shape[1] == 1:
            conv_weight = conv_weight[:, 0, :]
        o = _Opts(layout=layout, headdim=headdim, d_state=d_state, chunk_size=chunk_size, activation=activation,
                  gate_z=bool(gate_z), dt_softplus=bool(dt_softplus), dt_limit=(lo, hi), impl=impl,
                  norm_eps=norm_eps, norm_group_size=norm_group_size, norm_gated=bool(norm_gated),
                  norm_before_gate=bool(norm_before_gate))
        if compiling:  # torch.compile: the whole block as ONE opaque custom op (and one for its backward)
            return _custom_ops.split_conv_scan(zxbcdt, conv_weight, conv_bias, A, D, dt_bias, initial_states,
                                               norm_weight, _custom_ops.block_key(o))
        return SplitConvScanFunction.apply(zxbcdt, conv_weight, conv_bias, A, D, dt_bias, initial_states,
                                           norm_weight, o)

    # the composition of the per-op wrappers (their own backward, or the plain kernels without grad)
    z, xBC, dt = _split(zxbcdt, [layout.z, layout.xBC, layout.dt])  # slices when MLP columns come first
    xBC = _autograd.causal_conv1d_autograd(xBC, conv_weight, conv_bias, activation=activation, seq_idx=seq_idx)
    xv, Bv, Cv = _split(xBC, [layout.x, layout.B, layout.C])
    ngroups = (layout.B[1] - layout.B[0]) // d_state
    y = _functional.mamba_chunk_scan_combined(
        xv.unflatten(-1, (-1, headdim)), dt, A, Bv.unflatten(-1, (ngroups, d_state)),
        Cv.unflatten(-1, (ngroups, d_state)), chunk_size, D=D,
        z=z.unflatten(-1, (-1, headdim)) if gate_z else None, dt_bias=dt_bias, dt_softplus=dt_softplus,
        dt_limit=(lo, hi), initial_states=initial_states, seq_idx=seq_idx, cu_seqlens=cu_seqlens,
        return_final_states=return_final_states, return_varlen_states=return_varlen_states, impl=impl,
    )
    states = None
    if return_final_states or return_varlen_states:
        y, states = y[0], y[1:] if len(y) > 2 else y[1]
    y = y.reshape(b, l, -1)
    if norm_weight is not None:
        y = _autograd.rmsnorm_gated_autograd(y, norm_weight, z=z if norm_gated else None, eps=norm_eps,
                                             group_size=norm_group_size, norm_before_gate=norm_before_gate)
    if layout.z0 is not None:
        y = torch.cat([_mlp(zxbcdt, layout), y], dim=-1)
    return y if states is None else (y, states)
