# generated from examples/vision-mamba2.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 973d21e2cf8d81c0e01a13580d2634dea1d19fba039c3bddcd8ee47c7c19c7c4
# copied from packages/kernels/python/mamba2_kernels/kernels/ssd_decode.py
"""One decode step of a Mamba-2 layer: conv window, dt, state update, y, D, gate, norm.

`ssd_step` takes in_proj's output for one token per sequence and returns the
input of out_proj, updating the conv window and the SSM state in place. It is
two launches, whatever the layer:

1. `_ssd_step_kernel`, one program per (sequence, head, block of headdim): the
   conv of its x channels (their window is shifted in place: each x channel
   belongs to one program), the conv of its group's B and C channels (read
   only: several heads share them), dt = clamp(softplus(dt + dt_bias)), the
   state update S = exp(dt A) S + dt x B^T, y = S C + D x and, without a norm,
   the gate y * silu(z).
2. `_ssd_step_finish_kernel`, one program per (sequence, norm group): shifts
   the B and C windows (only now, when every head has read them), writes the
   gated MLP part silu(z0) * x0 of a layer with d_ssm < d_inner, and applies
   the (gated) RMSNorm, which reduces across heads and so needs launch 1 done.

No host sync, no data-dependent shapes and, with `out` given, no allocation:
the step can be captured in a CUDA graph. The state may be fp32 (default of
the modules) or the weights' dtype; it is updated in fp32 registers either way.
"""
from __future__ import annotations

import math
from typing import NamedTuple, Optional, Tuple

import torch
import triton
import triton.language as tl

from .fastlaunch import fast_launch
from ..fragments import softplus_f32
from .host import cdiv, next_pow2


class DecodeLayout(NamedTuple):
    """Where each part sits, as (start, stop) of a row of in_proj's output
    (z0, x0, z, xBC, dt) or of the conv channels (x, B, C). None: absent."""

    xBC: Tuple[int, int]
    dt: Tuple[int, int]
    x: Tuple[int, int]
    B: Tuple[int, int]
    C: Tuple[int, int]
    z: Optional[Tuple[int, int]] = None
    z0: Optional[Tuple[int, int]] = None
    x0: Optional[Tuple[int, int]] = None


@triton.jit
def _conv_window_step(p_new, p_win, p_w, p_bias, o_c, m_c, stride_wc, stride_ww,
                      WIDTH: tl.constexpr, BLOCK_W: tl.constexpr, HAS_BIAS: tl.constexpr,
                      SILU: tl.constexpr, SHIFT: tl.constexpr):
    """Channels o_c: window = [old[1:], new], out = act(sum(window * w) + bias).
    SHIFT writes the window back (the caller must own these channels)."""
    o_w = tl.arange(0, BLOCK_W)
    m_old = m_c[:, None] & (o_w[None, :] < WIDTH - 1)
    b_win = tl.load(p_win + o_c.to(tl.int64)[:, None] * stride_wc + (o_w[None, :] + 1) * stride_ww,
                    mask=m_old, other=0.0)
    b_new = tl.load(p_new + o_c, mask=m_c, other=0.0)
    b_win = tl.where(o_w[None, :] == WIDTH - 1, b_new[:, None].to(b_win.dtype), b_win)
    if SHIFT:
        tl.debug_barrier()  # every thread has read the old window before any slot is overwritten
        tl.store(p_win + o_c.to(tl.int64)[:, None] * stride_wc + o_w[None, :] * stride_ww, b_win,
                 mask=m_c[:, None] & (o_w[None, :] < WIDTH))
    b_wt = tl.load(p_w + o_c[:, None] * WIDTH + o_w[None, :],
                   mask=m_c[:, None] & (o_w[None, :] < WIDTH), other=0.0).to(tl.float32)
    b_out = tl.sum(b_win.to(tl.float32) * b_wt, axis=1)
    if HAS_BIAS:
        b_out += tl.load(p_bias + o_c, mask=m_c, other=0.0).to(tl.float32)
    if SILU:
        b_out = b_out * tl.sigmoid(b_out)
    # the full forward stores the conv output in the activations' dtype: round alike
    return b_out.to(p_new.dtype.element_ty).to(tl.float32)


@fast_launch
@triton.jit
def _ssd_step_kernel(
    zxbcdt, conv_state, conv_w, conv_b, dt_bias, A_log, D, ssm_state, out,
    stride_zx_b,
    stride_cs_b, stride_cs_c, stride_cs_w,
    stride_ss_b, stride_ss_h, stride_ss_p, stride_ss_n,
    stride_out_b,
    dt_lo, dt_hi,
    Z_OFF, XBC_OFF, DT_OFF, X_OFF, B_OFF, C_OFF, Y_OFF,
    HEADDIM: tl.constexpr,
    DSTATE: tl.constexpr,
    HEADS_PER_GROUP: tl.constexpr,
    WIDTH: tl.constexpr,
    HAS_CONV_BIAS: tl.constexpr,
    SILU: tl.constexpr,
    HAS_DT_BIAS: tl.constexpr,
    DT_SOFTPLUS: tl.constexpr,
    HAS_D: tl.constexpr,
    D_PER_CHANNEL: tl.constexpr,
    GATE_Z: tl.constexpr,
    BLOCK_P: tl.constexpr,
    BLOCK_N: tl.constexpr,
    BLOCK_W: tl.constexpr,
):
    i_b = tl.program_id(0).to(tl.int64)
    i_h = tl.program_id(1)
    i_p = tl.program_id(2)
    i_g = i_h // HEADS_PER_GROUP
    o_p = i_p * BLOCK_P + tl.arange(0, BLOCK_P)
    m_p = o_p < HEADDIM
    o_n = tl.arange(0, BLOCK_N)
    m_n = o_n < DSTATE
    p_row = zxbcdt + i_b * stride_zx_b
    p_xbc = p_row + XBC_OFF
    p_win = conv_state + i_b * stride_cs_b

    b_x = _conv_window_step(p_xbc, p_win, conv_w, conv_b, X_OFF + i_h * HEADDIM + o_p, m_p,
                            stride_cs_c, stride_cs_w, WIDTH, BLOCK_W, HAS_CONV_BIAS, SILU, True)
    b_B = _conv_window_step(p_xbc, p_win, conv_w, conv_b, B_OFF + i_g * DSTATE + o_n, m_n,
                            stride_cs_c, stride_cs_w, WIDTH, BLOCK_W, HAS_CONV_BIAS, SILU, False)
    b_C = _conv_window_step(p_xbc, p_win, conv_w, conv_b, C_OFF + i_g * DSTATE + o_n, m_n,
                            stride_cs_c, stride_cs_w, WIDTH, BLOCK_W, HAS_CONV_BIAS, SILU, False)

    b_dt = tl.load(p_row + DT_OFF + i_h).to(tl.float32)
    if HAS_DT_BIAS:
        b_dt += tl.load(dt_bias + i_h).to(tl.float32)
    if DT_SOFTPLUS:
        b_dt = softplus_f32(b_dt)
    b_dt = tl.minimum(tl.maximum(b_dt, dt_lo), dt_hi)
    b_A = -tl.exp(tl.load(A_log + i_h).to(tl.float32))
    b_dA = tl.exp(b_dt * b_A)

    p_s = (ssm_state + i_b * stride_ss_b + i_h * stride_ss_h
           + o_p[:, None] * stride_ss_p + o_n[None, :] * stride_ss_n)
    m_s = m_p[:, None] & m_n[None, :]
    b_s = tl.load(p_s, mask=m_s, other=0.0).to(tl.float32)
    b_s = b_s * b_dA + (b_dt * b_x)[:, None] * b_B[None, :]
    tl.store(p_s, b_s.to(ssm_state.dtype.element_ty), mask=m_s)

    b_y = tl.sum(b_s * b_C[None, :], axis=1)
    if HAS_D:
        if D_PER_CHANNEL:
            b_D = tl.load(D + i_h * HEADDIM + o_p, mask=m_p, other=0.0).to(tl.float32)
        else:
            b_D = tl.load(D + i_h).to(tl.float32)
        b_y += b_D * b_x
    if GATE_Z:
        b_z = tl.load(p_row + Z_OFF + i_h * HEADDIM + o_p, mask=m_p, other=0.0).to(tl.float32)
        b_y = b_y * (b_z * tl.sigmoid(b_z))
    tl.store(out + i_b * stride_out_b + Y_OFF + i_h * HEADDIM + o_p, b_y.to(out.dtype.element_ty), mask=m_p)


@triton.jit
def _shift_windows(p_new, p_win, off, stride_wc, stride_ww, N: tl.constexpr, WIDTH: tl.constexpr,
                   BLOCK_C: tl.constexpr, BLOCK_W: tl.constexpr):
    """Channels off..off+N: window = [old[1:], new], written back."""
    o_w = tl.arange(0, BLOCK_W)
    for c0 in range(0, N, BLOCK_C):
        m_c = (c0 + tl.arange(0, BLOCK_C)) < N
        o_c = (off + c0 + tl.arange(0, BLOCK_C)).to(tl.int64)
        b_win = tl.load(p_win + o_c[:, None] * stride_wc + (o_w[None, :] + 1) * stride_ww,
                        mask=m_c[:, None] & (o_w[None, :] < WIDTH - 1), other=0.0)
        b_new = tl.load(p_new + o_c, mask=m_c, other=0.0)
        b_win = tl.where(o_w[None, :] == WIDTH - 1, b_new[:, None].to(b_win.dtype), b_win)
        tl.debug_barrier()
        tl.store(p_win + o_c[:, None] * stride_wc + o_w[None, :] * stride_ww, b_win,
                 mask=m_c[:, None] & (o_w[None, :] < WIDTH))


@fast_launch
@triton.jit
def _ssd_step_finish_kernel(
    zxbcdt, conv_state, out, norm_w,
    stride_zx_b,
    stride_cs_b, stride_cs_c, stride_cs_w,
    stride_out_b,
    eps,
    XBC_OFF, B_OFF, C_OFF, Z_OFF, Z0_OFF, X0_OFF, Y_OFF,
    GN: tl.constexpr,
    D_MLP: tl.constexpr,
    GROUP: tl.constexpr,
    WIDTH: tl.constexpr,
    HAS_NORM: tl.constexpr,
    NORM_GATED: tl.constexpr,
    NORM_BEFORE_GATE: tl.constexpr,
    BLOCK_C: tl.constexpr,
    BLOCK_W: tl.constexpr,
    BLOCK_G: tl.constexpr,
):
    i_b = tl.program_id(0).to(tl.int64)
    i_g = tl.program_id(1)
    p_row = zxbcdt + i_b * stride_zx_b
    p_out = out + i_b * stride_out_b
    if i_g == 0:
        # the B and C windows: every head of launch 1 has read them by now
        p_win = conv_state + i_b * stride_cs_b
        _shift_windows(p_row + XBC_OFF, p_win, B_OFF, stride_cs_c, stride_cs_w, GN, WIDTH, BLOCK_C, BLOCK_W)
        _shift_windows(p_row + XBC_OFF, p_win, C_OFF, stride_cs_c, stride_cs_w, GN, WIDTH, BLOCK_C, BLOCK_W)
        if D_MLP > 0:
            for c0 in range(0, D_MLP, BLOCK_C):
                o_c = c0 + tl.arange(0, BLOCK_C)
                m_c = o_c < D_MLP
                b_z0 = tl.load(p_row + Z0_OFF + o_c, mask=m_c, other=0.0).to(tl.float32)
                b_x0 = tl.load(p_row + X0_OFF + o_c, mask=m_c, other=0.0).to(tl.float32)
                tl.store(p_out + o_c, (b_z0 * tl.sigmoid(b_z0) * b_x0).to(out.dtype.element_ty), mask=m_c)
    if HAS_NORM:
        base = i_g * GROUP
        b_acc = tl.zeros((BLOCK_G,), dtype=tl.float32)
        for c0 in range(0, GROUP, BLOCK_G):
            o_c = base + c0 + tl.arange(0, BLOCK_G)
            m_c = (c0 + tl.arange(0, BLOCK_G)) < GROUP
            b_y = tl.load(p_out + Y_OFF + o_c, mask=m_c, other=0.0).to(tl.float32)
            if NORM_GATED:
                if not NORM_BEFORE_GATE:
                    b_z = tl.load(p_row + Z_OFF + o_c, mask=m_c, other=0.0).to(tl.float32)
                    b_y = b_y * (b_z * tl.sigmoid(b_z))
            b_acc += b_y * b_y
        b_rstd = 1.0 / tl.sqrt(tl.sum(b_acc, axis=0) / GROUP + eps)
        for c0 in range(0, GROUP, BLOCK_G):
            o_c = base + c0 + tl.arange(0, BLOCK_G)
            m_c = (c0 + tl.arange(0, BLOCK_G)) < GROUP
            b_y = tl.load(p_out + Y_OFF + o_c, mask=m_c, other=0.0).to(tl.float32)
            b_w = tl.load(norm_w + o_c, mask=m_c, other=0.0).to(tl.float32)
            if NORM_GATED:
                b_z = tl.load(p_row + Z_OFF + o_c, mask=m_c, other=0.0).to(tl.float32)
                b_gate = b_z * tl.sigmoid(b_z)
                if NORM_BEFORE_GATE:
                    b_o = b_y * b_rstd * b_w * b_gate
                else:
                    b_o = b_y * b_gate * b_rstd * b_w
            else:
                b_o = b_y * b_rstd * b_w
            tl.store(p_out + Y_OFF + o_c, b_o.to(out.dtype.element_ty), mask=m_c)


def _span(s):
    return (int(s[0]), int(s[1])) if s is not None else None


def _check_step(name, cond, msg):
    if not cond:
        raise ValueError(f"ssd_step: {name} {msg}")


def ssd_step(
    zxbcdt, conv_state, conv_weight, conv_bias, ssm_state, A_log, layout,
    *, headdim, dt_bias=None, D=None, dt_softplus=True, dt_limit=(0.0, math.inf),
    activation="silu", gate_z=False, norm_weight=None, norm_eps=1e-5, norm_group_size=None,
    norm_gated=False, norm_before_gate=False, out=None, block_p=None, num_warps=None,
):
    """One decode step (see the module docstring), states updated in place.

    zxbcdt: [B, d_in_proj] in_proj's output for one token (last dim contiguous);
    conv_state: [B, conv_dim, W] (any strides, e.g. mamba_ssm's channel-last one),
    conv_state[..., W-1] the newest input; conv_weight: [conv_dim, W] or [conv_dim, 1, W];
    conv_bias: [conv_dim] | None; ssm_state: [B, nheads, headdim, d_state] fp32/bf16/fp16;
    A_log: [nheads] (A = -exp(A_log)); layout: DecodeLayout; dt_bias: [nheads] | None;
    D: [nheads] or [nheads * headdim] | None; gate_z: y * silu(z) in the step (no norm);
    norm_weight: [d_ssm] | None, normalised in groups of norm_group_size (None = d_ssm),
    gated by z when norm_gated; out: [B, d_mlp + d_ssm] | None.
    Returns out = [silu(z0) * x0, y] in zxbcdt's dtype: out_proj's input.
    """
    if torch.compiler.is_compiling() and out is None:  # torch.compile: one opaque custom op
        from .. import custom_ops

        return custom_ops.ssd_step(
            zxbcdt, conv_state, conv_weight, conv_bias, ssm_state, A_log, layout, headdim=headdim,
            dt_bias=dt_bias, D=D, dt_softplus=dt_softplus, dt_limit=dt_limit, activation=activation,
            gate_z=gate_z, norm_weight=norm_weight, norm_eps=norm_eps, norm_group_size=norm_group_size,
            norm_gated=norm_gated, norm_before_gate=norm_before_gate,
        )
    layout = DecodeLayout(*layout)
    _check_step("zxbcdt", zxbcdt.dim() == 2 and zxbcdt.stride(-1) == 1,
                f"must be [batch, d_in_proj] with a contiguous last dim, got shape {tuple(zxbcdt.shape)}")
    bsz = zxbcdt.shape[0]
    xs, bs, cs = _span(layout.x), _span(layout.B), _span(layout.C)
    d_ssm = xs[1] - xs[0]
    gn = bs[1] - bs[0]
    _check_step("layout", cs[1] - cs[0] == gn, f"has B {bs} and C {cs} of different widths")
    _check_step("headdim", headdim > 0 and d_ssm % headdim == 0, f"{headdim} does not divide d_ssm {d_ssm}")
    nheads = d_ssm // headdim
    if conv_weight.dim() == 3:
        conv_weight = conv_weight[:, 0, :]
    conv_dim, width = conv_weight.shape
    _check_step("conv_state", tuple(conv_state.shape) == (bsz, conv_dim, width),
                f"must be [batch, conv_dim, d_conv] = {(bsz, conv_dim, width)}, got {tuple(conv_state.shape)}")
    _check_step("ssm_state", ssm_state.dim() == 4 and ssm_state.shape[:3] == (bsz, nheads, headdim),
                f"must be [batch, nheads, headdim, d_state] with {(bsz, nheads, headdim)} first, "
                f"got {tuple(ssm_state.shape)}")
    dstate = ssm_state.shape[3]
    _check_step("ssm_state", gn % dstate == 0 and nheads % (gn // dstate) == 0,
                f"d_state {dstate} does not fit B's width {gn} (ngroups * d_state) and nheads {nheads}")
    ngroups = gn // dstate
    _check_step("activation", activation in ("silu", "swish", "identity", None),
                f"must be 'silu' or 'identity', got {activation!r}")
    d_mlp = 0
    if layout.z0 is not None:
        d_mlp = layout.z0[1] - layout.z0[0]
    conv_weight = conv_weight.contiguous()
    lo, hi = dt_limit
    lo = -math.inf if lo is None else float(lo)
    hi = math.inf if hi is None else float(hi)
    if out is None:
        out = torch.empty((bsz, d_mlp + d_ssm), device=zxbcdt.device, dtype=zxbcdt.dtype)
    else:
        _check_step("out", tuple(out.shape) == (bsz, d_mlp + d_ssm) and out.stride(-1) == 1,
                    f"must be [batch, d_mlp + d_ssm] = {(bsz, d_mlp + d_ssm)}, got {tuple(out.shape)}")
    if bsz == 0:
        return out
    xbc0 = layout.xBC[0]
    z0 = layout.z[0] if layout.z is not None else 0
    has_norm = norm_weight is not None
    if gate_z or (has_norm and norm_gated):
        _check_step("layout", layout.z is not None, "has no z, but the gate needs one")
    block_n = next_pow2(dstate)
    block_w = next_pow2(width)
    if block_p is None:
        # GPU: small tiles, many programs (batch 1 must fill the SMs); CPU (Triton's
        # interpreter): whole heads, since the interpreter's cost is per program
        block_p = next_pow2(headdim) if zxbcdt.device.type == "cpu" else max(1, min(next_pow2(headdim), 2048 // block_n))
    dummy = zxbcdt
    _ssd_step_kernel[(bsz, nheads, cdiv(headdim, block_p))](
        zxbcdt, conv_state, conv_weight, conv_bias if conv_bias is not None else dummy,
        dt_bias if dt_bias is not None else dummy, A_log, D if D is not None else dummy, ssm_state, out,
        zxbcdt.stride(0),
        conv_state.stride(0), conv_state.stride(1), conv_state.stride(2),
        ssm_state.stride(0), ssm_state.stride(1), ssm_state.stride(2), ssm_state.stride(3),
        out.stride(0),
        lo, hi,
        z0, xbc0, layout.dt[0], xs[0], bs[0], cs[0], d_mlp,
        HEADDIM=headdim, DSTATE=dstate, HEADS_PER_GROUP=nheads // ngroups, WIDTH=width,
        HAS_CONV_BIAS=conv_bias is not None, SILU=activation in ("silu", "swish"),
        HAS_DT_BIAS=dt_bias is not None, DT_SOFTPLUS=bool(dt_softplus),
        HAS_D=D is not None, D_PER_CHANNEL=D is not None and D.numel() != nheads,
        GATE_Z=bool(gate_z) and not has_norm,
        BLOCK_P=block_p, BLOCK_N=block_n, BLOCK_W=block_w,
        num_warps=num_warps or 4,
    )
    group = d_ssm if norm_group_size is None else int(norm_group_size)
    if has_norm:
        _check_step("norm_group_size", group > 0 and d_ssm % group == 0, f"{group} does not divide d_ssm {d_ssm}")
        _check_step("norm_weight", tuple(norm_weight.shape) == (d_ssm,),
                    f"must be [d_ssm] = {(d_ssm,)}, got {tuple(norm_weight.shape)}")
    _ssd_step_finish_kernel[(bsz, d_ssm // group if has_norm else 1)](
        zxbcdt, conv_state, out, norm_weight if has_norm else dummy,
        zxbcdt.stride(0),
        conv_state.stride(0), conv_state.stride(1), conv_state.stride(2),
        out.stride(0),
        float(norm_eps),
        xbc0, bs[0], cs[0], z0, layout.z0[0] if d_mlp else 0, layout.x0[0] if d_mlp else 0, d_mlp,
        GN=gn, D_MLP=d_mlp, GROUP=group, WIDTH=width,
        HAS_NORM=has_norm, NORM_GATED=bool(norm_gated), NORM_BEFORE_GATE=bool(norm_before_gate),
        BLOCK_C=min(256, next_pow2(max(gn, d_mlp, 1))), BLOCK_W=block_w,
        BLOCK_G=min(1024, next_pow2(group)),
        num_warps=4,
    )
    return out
