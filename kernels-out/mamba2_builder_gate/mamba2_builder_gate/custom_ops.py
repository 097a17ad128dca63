# generated from examples/mamba2-builder-gate.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 199ee129cb1192e6e2631245c55af3764dd8e1c0b74922375a8d5a6f5ae3dc58
# copied from packages/kernels/python/mamba2_kernels/custom_ops.py
"""The kernels as torch.library custom ops: what torch.compile sees.

Under torch.compile the public entry points (functional.mamba_chunk_scan_combined,
autograd.causal_conv1d_autograd / rmsnorm_gated_autograd, kernels.ssd_decode.ssd_step)
call the functions at the bottom of this file instead of launching Triton
directly (they check `torch.compiler.is_compiling()`; eager keeps its
per-call cost). Each op is opaque to the compiler (custom_op, not triton_op):
Dynamo records one node, the fake implementation gives the shapes, dtypes and
strides of its outputs, and Inductor calls the op as it is instead of
re-compiling our Triton source. Backward passes are custom ops too, wired
with register_autograd.

Ops live in a namespace named after the package that holds this file
(`mamba2_kernels`, or the generated package's name, e.g. `mamba2_simple`), so
several packages load side by side; a re-import of the same package gets a
fresh namespace (`<name>_1`, ...). `NAMESPACE` says which one; `torch.ops.<ns>`:

  ssd_scan(x, dt, A, B, C, D?, z?, dt_bias?, initial_states?, seq_idx?, chunk_size,
           dt_softplus, dt_lo, dt_hi, impl) -> (out, final_states fp32)
  ssd_scan_bwd(dout, dfinal, x, dt, A, B, C, D?, z?, dt_bias?, initial_states?, seq_idx?,
               dt_softplus, dt_lo, dt_hi) -> (dx, ddt, dA, dB, dC, dD, dz, ddt_bias, dinit)
  causal_conv1d(x, weight [C, W], bias?, seq_idx?, silu) -> out
  causal_conv1d_bwd(dout, x, weight, bias?, seq_idx?, silu) -> (dx, dweight, dbias)
  rmsnorm_gated(y, weight, z?, eps, group_size, norm_before_gate) -> out
  rmsnorm_gated_bwd(dout, y, weight, z?, eps, group_size, norm_before_gate) -> (dy, dz, dweight)
  ssd_step(zxbcdt, conv_state!, conv_weight, conv_bias?, ssm_state!, A_log, dt_bias?, D?,
           norm_weight?, layout, headdim, ...) -> out   (mutates both states)
  varlen_states(x, dt, A, B, cu_seqlens, dt_bias?, dt_softplus, dt_lo, dt_hi) -> states fp32
  split_conv_scan(zxbcdt, conv_weight, conv_bias?, A, D?, dt_bias?, initial_states?, norm_weight?, opts)
      -> (out, xBC, y)   the whole block.py block (opts = block_key(block._Opts)); its backward:
  split_conv_scan_bwd(dout, <the 8 inputs>, xBC, y, opts) -> (dzxbcdt, dconv_w, dconv_b, dA, dD, ddt_bias,
      dinit, dnorm_w)

Every gradient comes back in its input's dtype and contiguous; the gradient of
an absent optional input is an empty tensor (the autograd formula turns it
into None). Without a backward (`ssd_scan` with no input requiring grad) the
final state is still computed: one [b, h, p, n] write, so the op has one schema.
"""
import inspect
import math
import re
from typing import List, Optional, Tuple

import torch

from . import _config
from .kernels import conv as _conv
from .kernels import ssd_decode as _decode
from .kernels.conv_bwd import causal_conv1d_bwd as _conv_bwd
from .kernels.ssd_bwd import ssd_bwd as _ssd_bwd

try:  # a model without a norm generates no norm kernels
    from .kernels.norm import rmsnorm_gated as _norm_fwd
    from .kernels.norm_bwd import rmsnorm_gated_bwd as _norm_bwd
except ImportError:  # pragma: no cover - depends on the model
    _norm_fwd = _norm_bwd = None

Tensor = torch.Tensor


def _namespace() -> str:
    base = re.sub(r"\W", "_", (__package__ or "mamba2_kernels").split(".")[0])
    ns, i = base, 0
    while hasattr(getattr(torch.ops, ns), "ssd_scan"):  # this package imported before
        i += 1
        ns = f"{base}_{i}"
    return ns


NAMESPACE = _namespace()


# Inductor is told to hand each op its inputs with the strides eager would (the kernels take strided
# views, e.g. the x/B/C slices of in_proj's output): without it, torch 2.11 on the H200 added a copy
# kernel before the conv and the norm under torch.compile (NOTES.md, "Interop ... compile").
# (A torch whose custom_op takes no tags gets none.)
_TAGS = {"tags": (torch.Tag.needs_exact_strides,)} if (
    hasattr(torch.Tag, "needs_exact_strides") and "tags" in inspect.signature(torch.library.custom_op).parameters) else {}


def _op(name, mutates_args=()):
    return torch.library.custom_op(f"{NAMESPACE}::{name}", mutates_args=mutates_args, **_TAGS)


def _none_if_empty(g, t):
    return None if t is None else g


def _grad_out(g, like):
    """g as the gradient of `like`: its dtype, contiguous, its own storage (a custom
    op's outputs may not alias each other or an input; the kernels return some
    gradients as views of one buffer)."""
    g = g.to(like.dtype)
    if g._is_view() or not g.is_contiguous():
        g = g.clone(memory_format=torch.contiguous_format)
    return g


def _empty_grad(like, ref):
    """What _grad_out returns, shape-wise, for the fake implementations."""
    if like is None:
        return ref.new_empty(0, dtype=torch.float32)
    return like.new_empty(like.shape)


# ---------------------------------------------------------------- SSD scan


def _scan_impl(impl):
    if impl == "fused":
        from .kernels.ssd_fused import ssd_fused_fwd as scan
    elif impl == "chunked":
        from .kernels.ssd_chunked import ssd_chunked_fwd as scan
    else:
        raise ValueError(f"impl must be 'fused' or 'chunked', got {impl!r}")
    return scan


@_op("ssd_scan")
def _ssd_scan(
    x: Tensor, dt: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Optional[Tensor], z: Optional[Tensor],
    dt_bias: Optional[Tensor], initial_states: Optional[Tensor], seq_idx: Optional[Tensor],
    chunk_size: int, dt_softplus: bool, dt_lo: float, dt_hi: float, impl: str,
) -> Tuple[Tensor, Tensor]:
    out, final = _scan_impl(impl)(
        x, dt, A, B, C, chunk_size, D=D, z=z, dt_bias=dt_bias, initial_states=initial_states,
        seq_idx=seq_idx, dt_softplus=dt_softplus, dt_limit=(dt_lo, dt_hi), return_final_states=True,
    )
    return out, final


@_ssd_scan.register_fake
def _(x, dt, A, B, C, D, z, dt_bias, initial_states, seq_idx, chunk_size, dt_softplus, dt_lo, dt_hi, impl):
    b, l, h, p = x.shape
    n = B.shape[3]
    return x.new_empty((b, l, h, p)), x.new_empty((b, h, p, n), dtype=torch.float32)


@_op("ssd_scan_bwd")
def _ssd_scan_bwd(
    dout: Tensor, dfinal: Tensor, x: Tensor, dt: Tensor, A: Tensor, B: Tensor, C: Tensor,
    D: Optional[Tensor], z: Optional[Tensor], dt_bias: Optional[Tensor],
    initial_states: Optional[Tensor], seq_idx: Optional[Tensor],
    dt_softplus: bool, dt_lo: float, dt_hi: float,
) -> Tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
    g = _ssd_bwd(
        dout, x, dt, A, B, C, D=D, z=z, dt_bias=dt_bias, initial_states=initial_states, seq_idx=seq_idx,
        dt_softplus=dt_softplus, dt_limit=(dt_lo, dt_hi), dfinal_states=dfinal,
    )
    return (
        _grad_out(g["dx"], x), _grad_out(g["ddt"], dt), _grad_out(g["dA"], A),
        _grad_out(g["dB"], B), _grad_out(g["dC"], C),
        _grad_out(g["dD"], D) if D is not None else x.new_empty(0, dtype=torch.float32),
        _grad_out(g["dz"], z) if z is not None else x.new_empty(0, dtype=torch.float32),
        _grad_out(g["ddt_bias"], dt_bias) if dt_bias is not None else x.new_empty(0, dtype=torch.float32),
        _grad_out(g["dinitial_states"], initial_states) if initial_states is not None
        else x.new_empty(0, dtype=torch.float32),
    )


@_ssd_scan_bwd.register_fake
def _(dout, dfinal, x, dt, A, B, C, D, z, dt_bias, initial_states, seq_idx, dt_softplus, dt_lo, dt_hi):
    return tuple(_empty_grad(t, x) for t in (x, dt, A, B, C, D, z, dt_bias, initial_states))


def _scan_setup(ctx, inputs, output):
    x, dt, A, B, C, D, z, dt_bias, initial_states, seq_idx, _, dt_softplus, dt_lo, dt_hi, _ = inputs
    ctx.save_for_backward(x, dt, A, B, C, D, z, dt_bias, initial_states, seq_idx)
    ctx.opts = (dt_softplus, dt_lo, dt_hi)


def _scan_backward(ctx, dout, dfinal):
    x, dt, A, B, C, D, z, dt_bias, initial_states, seq_idx = ctx.saved_tensors
    g = _ssd_scan_bwd(dout.contiguous(), dfinal.contiguous(), x, dt, A, B, C, D, z, dt_bias,
                      initial_states, seq_idx, *ctx.opts)
    dx, ddt, dA, dB, dC, dD, dz, ddt_bias, dinit = g
    return (
        dx, ddt, dA, dB, dC, _none_if_empty(dD, D), _none_if_empty(dz, z),
        _none_if_empty(ddt_bias, dt_bias), _none_if_empty(dinit, initial_states),
        None, None, None, None, None, None,
    )


_ssd_scan.register_autograd(_scan_backward, setup_context=_scan_setup)


# ---------------------------------------------------------------- causal conv1d


@_op("causal_conv1d")
def _causal_conv1d(x: Tensor, weight: Tensor, bias: Optional[Tensor], seq_idx: Optional[Tensor],
                   silu: bool) -> Tensor:
    act = "silu" if silu else "identity"
    if seq_idx is not None:
        from .kernels.conv_varlen import causal_conv1d_varlen

        return causal_conv1d_varlen(x, weight, bias, seq_idx, activation=act)
    return _conv.causal_conv1d(x, weight, bias, activation=act)


@_causal_conv1d.register_fake
def _(x, weight, bias, seq_idx, silu):
    return x.new_empty(x.shape)


@_op("causal_conv1d_bwd")
def _causal_conv1d_bwd(dout: Tensor, x: Tensor, weight: Tensor, bias: Optional[Tensor],
                       seq_idx: Optional[Tensor], silu: bool) -> Tuple[Tensor, Tensor, Tensor]:
    act = "silu" if silu else "identity"
    if seq_idx is not None:
        from .kernels.conv_varlen import causal_conv1d_varlen_bwd

        dx, dw, db = causal_conv1d_varlen_bwd(dout, x, weight, bias, seq_idx, activation=act)
    else:
        dx, dw, db = _conv_bwd(dout, x, weight, bias, activation=act)
    return (_grad_out(dx, x), _grad_out(dw, weight),
            _grad_out(db, bias) if bias is not None else x.new_empty(0, dtype=torch.float32))


@_causal_conv1d_bwd.register_fake
def _(dout, x, weight, bias, seq_idx, silu):
    return _empty_grad(x, x), _empty_grad(weight, x), _empty_grad(bias, x)


def _conv_setup(ctx, inputs, output):
    x, weight, bias, seq_idx, silu = inputs
    ctx.save_for_backward(x, weight, bias, seq_idx)
    ctx.silu = silu


def _conv_backward(ctx, dout):
    x, weight, bias, seq_idx = ctx.saved_tensors
    dx, dw, db = _causal_conv1d_bwd(dout.contiguous(), x, weight, bias, seq_idx, ctx.silu)
    return dx, dw, _none_if_empty(db, bias), None, None


_causal_conv1d.register_autograd(_conv_backward, setup_context=_conv_setup)


# ---------------------------------------------------------------- gated RMSNorm


@_op("rmsnorm_gated")
def _rmsnorm_gated(y: Tensor, weight: Tensor, z: Optional[Tensor], eps: float, group_size: int,
                   norm_before_gate: bool) -> Tensor:
    return _norm_fwd(y, weight, z=z, eps=eps, group_size=group_size, norm_before_gate=norm_before_gate)


@_rmsnorm_gated.register_fake
def _(y, weight, z, eps, group_size, norm_before_gate):
    return y.new_empty(y.shape)


@_op("rmsnorm_gated_bwd")
def _rmsnorm_gated_bwd(dout: Tensor, y: Tensor, weight: Tensor, z: Optional[Tensor], eps: float,
                       group_size: int, norm_before_gate: bool) -> Tuple[Tensor, Tensor, Tensor]:
    dy, dz, dw = _norm_bwd(dout, y, weight, z=z, eps=eps, group_size=group_size,
                           norm_before_gate=norm_before_gate)
    return (_grad_out(dy, y), _grad_out(dz, z) if z is not None else y.new_empty(0, dtype=torch.float32),
            _grad_out(dw, weight))


@_rmsnorm_gated_bwd.register_fake
def _(dout, y, weight, z, eps, group_size, norm_before_gate):
    return _empty_grad(y, y), _empty_grad(z, y), _empty_grad(weight, y)


def _norm_setup(ctx, inputs, output):
    y, weight, z, eps, group_size, norm_before_gate = inputs
    ctx.save_for_backward(y, weight, z)
    ctx.opts = (eps, group_size, norm_before_gate)


def _norm_backward(ctx, dout):
    y, weight, z = ctx.saved_tensors
    dy, dz, dw = _rmsnorm_gated_bwd(dout.contiguous(), y, weight, z, *ctx.opts)
    return dy, dw, _none_if_empty(dz, z), None, None, None


_rmsnorm_gated.register_autograd(_norm_backward, setup_context=_norm_setup)


# ---------------------------------------------------------------- decode step



def _flat_layout(layout) -> List[int]:
    layout = _decode.DecodeLayout(*layout)
    flat = []
    for span in layout:
        flat += [-1, -1] if span is None else [int(span[0]), int(span[1])]
    return flat


def _unflat_layout(flat):
    spans = [None if flat[i] < 0 else (flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]
    return _decode.DecodeLayout(*spans)


@_op("ssd_step", mutates_args=("conv_state", "ssm_state"))
def _ssd_step(
    zxbcdt: Tensor, conv_state: Tensor, conv_weight: Tensor, conv_bias: Optional[Tensor],
    ssm_state: Tensor, A_log: Tensor, dt_bias: Optional[Tensor], D: Optional[Tensor],
    norm_weight: Optional[Tensor], layout: List[int], headdim: int, dt_softplus: bool,
    dt_lo: float, dt_hi: float, silu: bool, gate_z: bool, norm_eps: float, norm_group_size: int,
    norm_gated: bool, norm_before_gate: bool,
) -> Tensor:
    return _decode.ssd_step(
        zxbcdt, conv_state, conv_weight, conv_bias, ssm_state, A_log, _unflat_layout(layout),
        headdim=headdim, dt_bias=dt_bias, D=D, dt_softplus=dt_softplus, dt_limit=(dt_lo, dt_hi),
        activation="silu" if silu else "identity", gate_z=gate_z, norm_weight=norm_weight,
        norm_eps=norm_eps, norm_group_size=norm_group_size if norm_group_size > 0 else None,
        norm_gated=norm_gated, norm_before_gate=norm_before_gate,
    )


@_ssd_step.register_fake
def _(zxbcdt, conv_state, conv_weight, conv_bias, ssm_state, A_log, dt_bias, D, norm_weight, layout,
      headdim, dt_softplus, dt_lo, dt_hi, silu, gate_z, norm_eps, norm_group_size, norm_gated,
      norm_before_gate):
    lay = _unflat_layout(layout)
    d_mlp = 0 if lay.z0 is None else lay.z0[1] - lay.z0[0]
    return zxbcdt.new_empty((zxbcdt.shape[0], d_mlp + lay.x[1] - lay.x[0]))


# ---------------------------------------------------------------- the whole block (split, conv, scan, norm)
# Under torch.compile block.mamba_split_conv1d_scan is ONE op (and its backward one more), so the compiled
# layer is mm -> split_conv_scan -> mm: each custom op call costs host time in Python (the dispatcher's
# autograd kernel, the backend kernel, the alias checks: ~20 us + ~1.5 us per argument on the dev CPU),
# which three ops per direction paid three times (NOTES.md "Compiled layer host time"). The bodies are
# block.py's block_forward / block_backward: the kernels and the one d_zxbcdt buffer of the eager Function,
# so compiled and eager give the same bits. Its non-tensor options travel as one string (block_key): one
# schema argument instead of fourteen, parsed once per distinct value.


def block_key(o) -> str:
    """block.py's _Opts `o` as the op's `opts` string (block_opts reads it back; floats by str(), which
    round-trips). Plain str formatting of constants: Dynamo folds it while it traces the caller."""
    lay = ",".join([str(v) for v in _flat_layout(o.layout)])
    impl = _config.LAUNCH.scan_impl if o.impl is None else o.impl
    act = "identity" if o.activation is None else o.activation
    group = -1 if o.norm_group_size is None else int(o.norm_group_size)
    lo, hi = o.dt_limit
    return (f"{lay};{int(o.headdim)};{int(o.d_state)};{int(o.chunk_size)};{act};{int(bool(o.gate_z))};"
            f"{int(bool(o.dt_softplus))};{float(lo)};{float(hi)};{impl};{float(o.norm_eps)};{group};"
            f"{int(bool(o.norm_gated))};{int(bool(o.norm_before_gate))}")


_BLOCK_OPTS = {}


def block_opts(key: str):
    """block.py's _Opts from a block_key string (cached per string)."""
    o = _BLOCK_OPTS.get(key)
    if o is None:
        from .block import _Opts

        f = key.split(";")
        if len(f) != 14:
            raise ValueError(f"split_conv_scan: opts {key!r} has {len(f)} fields, not 14: build it with block_key")
        group = int(f[11])
        o = _Opts(layout=_unflat_layout([int(v) for v in f[0].split(",")]), headdim=int(f[1]), d_state=int(f[2]),
                  chunk_size=int(f[3]), activation=f[4], gate_z=f[5] == "1", dt_softplus=f[6] == "1",
                  dt_limit=(float(f[7]), float(f[8])), impl=f[9], norm_eps=float(f[10]),
                  norm_group_size=None if group < 0 else group, norm_gated=f[12] == "1", norm_before_gate=f[13] == "1")
        _BLOCK_OPTS[key] = o
    return o


_BLOCK = []  # block.py, imported on first use (it imports this module)


def _block():
    if not _BLOCK:
        from . import block

        _BLOCK.append(block)
    return _BLOCK[0]


def _fresh(t):
    """t as a custom op's output: its own storage (the kernels may return views of one buffer)."""
    return t.clone() if t._is_view() else t


@_op("split_conv_scan")
def _split_conv_scan(
    zxbcdt: Tensor, conv_weight: Tensor, conv_bias: Optional[Tensor], A: Tensor, D: Optional[Tensor],
    dt_bias: Optional[Tensor], initial_states: Optional[Tensor], norm_weight: Optional[Tensor], opts: str,
) -> Tuple[Tensor, Tensor, Tensor]:
    out, xBC, y = _block().block_forward(zxbcdt, conv_weight, conv_bias, A, D, dt_bias, initial_states,
                                         norm_weight, block_opts(opts))
    # without a norm, out may be y itself: y (kept for the norm's backward) is then an empty tensor
    return out, xBC, (y if y is not None else zxbcdt.new_empty(0))


@_split_conv_scan.register_fake
def _(zxbcdt, conv_weight, conv_bias, A, D, dt_bias, initial_states, norm_weight, opts):
    lay = block_opts(opts).layout
    b, l, _ = zxbcdt.shape
    d_ssm = lay.x[1] - lay.x[0]
    d_mlp = 0 if lay.z0 is None else lay.z0[1] - lay.z0[0]
    conv_dim = lay.xBC[1] - lay.xBC[0]
    y = zxbcdt.new_empty((b, l, d_ssm)) if norm_weight is not None else zxbcdt.new_empty(0)
    return zxbcdt.new_empty((b, l, d_mlp + d_ssm)), zxbcdt.new_empty((b, l, conv_dim)), y


@_op("split_conv_scan_bwd")
def _split_conv_scan_bwd(
    dout: Tensor, zxbcdt: Tensor, conv_weight: Tensor, conv_bias: Optional[Tensor], A: Tensor,
    D: Optional[Tensor], dt_bias: Optional[Tensor], initial_states: Optional[Tensor],
    norm_weight: Optional[Tensor], xBC: Tensor, y: Tensor, opts: str,
) -> Tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
    grads = _block().block_backward(dout, zxbcdt, conv_weight, conv_bias, A, D, dt_bias, initial_states,
                                    norm_weight, xBC, y if norm_weight is not None else None, block_opts(opts))
    return tuple(zxbcdt.new_empty(0, dtype=torch.float32) if g is None else _fresh(g) for g in grads)


@_split_conv_scan_bwd.register_fake
def _(dout, zxbcdt, conv_weight, conv_bias, A, D, dt_bias, initial_states, norm_weight, xBC, y, opts):
    return tuple(_empty_grad(t, zxbcdt)
                 for t in (zxbcdt, conv_weight, conv_bias, A, D, dt_bias, initial_states, norm_weight))


def _block_setup(ctx, inputs, output):
    ctx.save_for_backward(*inputs[:8], output[1], output[2])
    ctx.opts = inputs[8]


def _block_backward(ctx, dout, _dxBC, _dy):  # xBC and y are saved for the backward, not results
    saved = ctx.saved_tensors
    g = _split_conv_scan_bwd(dout, *saved, ctx.opts)
    return (g[0], g[1], *(_none_if_empty(gi, t) for gi, t in zip(g[2:], saved[2:8])), None)


_split_conv_scan.register_autograd(_block_backward, setup_context=_block_setup)


def split_conv_scan(zxbcdt, conv_weight, conv_bias, A, D, dt_bias, initial_states, norm_weight, opts):
    """block.mamba_split_conv1d_scan's output (inputs checked by the caller; opts from block_key)."""
    return _split_conv_scan(zxbcdt, conv_weight, conv_bias, A, D, dt_bias, initial_states, norm_weight, opts)[0]


# ---------------------------------------------------------------- varlen final states


@_op("varlen_states")
def _varlen_states(x: Tensor, dt: Tensor, A: Tensor, B: Tensor, cu_seqlens: Tensor,
                   dt_bias: Optional[Tensor], dt_softplus: bool, dt_lo: float, dt_hi: float) -> Tensor:
    from .kernels.ssd_varlen import ssd_varlen_states

    return ssd_varlen_states(x, dt, A, B, cu_seqlens, dt_bias=dt_bias, dt_softplus=dt_softplus,
                             dt_limit=(dt_lo, dt_hi))


@_varlen_states.register_fake
def _(x, dt, A, B, cu_seqlens, dt_bias, dt_softplus, dt_lo, dt_hi):
    _, _, h, p = x.shape
    return x.new_empty((cu_seqlens.shape[0] - 1, h, p, B.shape[3]), dtype=torch.float32)


# ---------------------------------------------------------------- what the entry points call


def _lim(dt_limit):
    lo, hi = dt_limit
    return (-math.inf if lo is None else float(lo)), (math.inf if hi is None else float(hi))


def ssd_scan(x, dt, A, B, C, chunk_size, D=None, z=None, dt_bias=None, initial_states=None,
             seq_idx=None, dt_softplus=False, dt_limit=(0.0, math.inf), impl="fused"):
    """(out, final_states) through the custom op (inputs checked by the caller)."""
    lo, hi = _lim(dt_limit)
    return _ssd_scan(x, dt, A, B, C, D, z, dt_bias, initial_states, seq_idx,
                     int(chunk_size), bool(dt_softplus), lo, hi, impl)


def causal_conv1d(x, weight, bias=None, activation="silu", seq_idx=None):
    if activation not in ("silu", "swish", "identity", None):
        raise ValueError(
            f"causal_conv1d under torch.compile (or with seq_idx) takes activation 'silu' or 'identity', "
            f"got {activation!r}: a @triton.jit activation runs in eager only"
        )
    if weight.dim() == 3 and weight.shape[1] == 1:
        weight = weight[:, 0, :]
    return _causal_conv1d(x, weight, bias, seq_idx, activation in ("silu", "swish"))


def rmsnorm_gated(y, weight, z=None, eps=1e-5, group_size=None, norm_before_gate=False):
    if _norm_fwd is None:
        raise RuntimeError("this package was generated without a norm: it has no rmsnorm_gated kernel")
    group = y.shape[-1] if group_size is None else int(group_size)
    return _rmsnorm_gated(y, weight, z, float(eps), group, bool(norm_before_gate))


def ssd_step(zxbcdt, conv_state, conv_weight, conv_bias, ssm_state, A_log, layout, *, headdim,
             dt_bias=None, D=None, dt_softplus=True, dt_limit=(0.0, math.inf), activation="silu",
             gate_z=False, norm_weight=None, norm_eps=1e-5, norm_group_size=None, norm_gated=False,
             norm_before_gate=False):
    if conv_weight.dim() == 3:
        conv_weight = conv_weight[:, 0, :]
    lo, hi = _lim(dt_limit)
    # inference only, as in eager (the Triton step records no graph): no autograd node.
    # The states are detached too (aliases: the op's in-place update still lands in them);
    # a prefill run with grad mode on leaves them with a grad history.
    zxbcdt, conv_state, conv_weight, conv_bias, ssm_state, A_log, dt_bias, D, norm_weight = (
        t.detach() if t is not None else None
        for t in (zxbcdt, conv_state, conv_weight, conv_bias, ssm_state, A_log, dt_bias, D, norm_weight)
    )
    return _ssd_step(
        zxbcdt, conv_state, conv_weight, conv_bias, ssm_state, A_log, dt_bias, D, norm_weight,
        _flat_layout(layout), int(headdim), bool(dt_softplus), lo, hi, activation in ("silu", "swish"),
        bool(gate_z), float(norm_eps), 0 if norm_group_size is None else int(norm_group_size),
        bool(norm_gated), bool(norm_before_gate),
    )


def varlen_states(x, dt, A, B, cu_seqlens, dt_bias=None, dt_softplus=False, dt_limit=(0.0, math.inf)):
    lo, hi = _lim(dt_limit)
    return _varlen_states(x, dt, A, B, cu_seqlens, dt_bias, bool(dt_softplus), lo, hi)


OPS = {name: getattr(getattr(torch.ops, NAMESPACE), name) for name in (
    "ssd_scan", "ssd_scan_bwd", "causal_conv1d", "causal_conv1d_bwd", "rmsnorm_gated",
    "rmsnorm_gated_bwd", "ssd_step", "varlen_states", "split_conv_scan", "split_conv_scan_bwd",
)}
