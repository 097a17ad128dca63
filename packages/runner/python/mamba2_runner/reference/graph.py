"""ref_block: a float64 interpreter of a model's ir.json.

Walks the Graph's nodes in order (they are topologically sorted) and evaluates
each with the float64 references, reading parameters from a state_dict by the
names the IR gives them (packages/dsl/src/ir/nodes.ts). Nothing here imports
the generated package, so the whole block is checked against an independent
reading of the same IR.

Differentiable by design: parameters and the input are upcast with
`.to(float64)`, so torch autograd through ref_block reaches u and every
state_dict tensor that requires grad (the block gradient checks of verify and
bench, and train's reference backend, use it as it is).
"""
from __future__ import annotations

import math
from typing import Callable, Dict, Mapping, Optional

import torch
from torch import Tensor

from .ops import ref_causal_conv1d, ref_depthwise_conv2d, ref_dt_transform, ref_rmsnorm_gated, ref_silu
from .scan import ref_scan

# K, the number of scan orders, of each SsdScan directions (nodes.ts SCAN_ORDERS)
SCAN_ORDERS = {None: 1, "forward": 1, "bidirectional": 2, "cross2d": 4}

F64 = torch.float64


class IRInterpretError(ValueError):
    """The IR names something the reference cannot find or does not know."""


class _Ctx:
    def __init__(self, state_dict: Mapping[str, Tensor], seq_idx: Optional[Tensor]):
        self.sd = state_dict
        self.seq_idx = seq_idx
        self.values: Dict[str, Tensor] = {}
        self.image: Optional[tuple] = None  # (height, width) of an image input
        self.image_out = False  # u came as [b, H, W, C]: the output goes back to that shape

    def get(self, ref: str) -> Tensor:
        if ref not in self.values:
            raise IRInterpretError(
                f"ir.json refers to {ref!r}, which no earlier node produced "
                f"(known: {sorted(self.values)}). Regenerate the package with `pnpm gen`."
            )
        return self.values[ref]

    def param(self, name: str) -> Tensor:
        if name not in self.sd:
            raise IRInterpretError(
                f"state_dict has no parameter {name!r} (has: {sorted(self.sd)}). "
                "Pass the generated module's state_dict()."
            )
        return self.sd[name].to(F64)


def _input(node, ctx, u):
    if u.shape[-1] != node["features"]:
        raise IRInterpretError(f"input has {u.shape[-1]} features, the model expects {node['features']}")
    image = node.get("image")
    if image is not None:
        ctx.image = (image["height"], image["width"])
        h, w = ctx.image
        if u.dim() == 4:
            if tuple(u.shape[1:3]) != (h, w):
                raise IRInterpretError(f"input image is {tuple(u.shape[1:3])}, the model expects {(h, w)}")
            ctx.image_out = True
            u = u.reshape(u.shape[0], h * w, u.shape[-1])  # row-major tokens
        elif u.shape[1] != h * w:
            raise IRInterpretError(f"input has {u.shape[1]} tokens, the model's {h}x{w} image has {h * w}")
    return u.to(F64)


def _linear(node, ctx, u):
    x = ctx.get(node["input"])
    prefix = node.get("mlpPrefix")
    if prefix is not None:  # mamba_ssm Mamba2's gated MLP on the channels outside the SSM
        x = torch.cat([ref_silu(ctx.get(prefix["gate"])) * ctx.get(prefix["value"]), x], dim=-1)
    out = x @ ctx.param(f"{node['param']}.weight").T
    if node["bias"]:
        out = out + ctx.param(f"{node['param']}.bias")
    return out


def _split(node, ctx, u):
    x = ctx.get(node["input"])
    total = sum(p["size"] for p in node["parts"])
    if x.shape[-1] != total:
        raise IRInterpretError(f"Split {node['id']}: input has {x.shape[-1]} features, parts sum to {total}")
    off = 0
    for part in node["parts"]:
        ctx.values[f"{node['id']}.{part['name']}"] = x[..., off : off + part["size"]]
        off += part["size"]
    return None


def _conv(node, ctx, u):
    x = ctx.get(node["input"])
    w = ctx.param(f"{node['param']}.weight")
    w = w.reshape(node["channels"], node["width"])
    b = ctx.param(f"{node['param']}.bias") if node["bias"] else None
    return ref_causal_conv1d(x, w, b, node["activation"], seq_idx=ctx.seq_idx)


def _conv2d(node, ctx, u):
    if ctx.image is None:
        raise IRInterpretError(f"DepthwiseConv2d {node['id']!r} needs the Input's image size")
    x = ctx.get(node["input"])
    h, w = ctx.image
    k = node["kernelSize"]
    wt = ctx.param(f"{node['param']}.weight").reshape(node["channels"], k, k)
    b = ctx.param(f"{node['param']}.bias") if node["bias"] else None
    out = ref_depthwise_conv2d(x.reshape(x.shape[0], h, w, x.shape[-1]), wt, b, node["activation"])
    return out.reshape(x.shape[0], h * w, x.shape[-1])


def _scan_projection(node, ctx, u):
    x = ctx.get(node["input"])
    K, hd, gn = node["orders"], node["nheads"], node["ngroups"] * node["dState"]
    wt = ctx.param(f"{node['param']}.weight").reshape(K, hd + 2 * gn, node["inFeatures"])
    out = torch.einsum("bld,kcd->blkc", x, wt)  # [b, l, K, nheads + 2*g*n], order-major ports
    b, l = x.shape[:2]
    ctx.values[f"{node['id']}.dt"] = out[..., :hd].reshape(b, l, K * hd)
    ctx.values[f"{node['id']}.B"] = out[..., hd:hd + gn].reshape(b, l, K * gn)
    ctx.values[f"{node['id']}.C"] = out[..., hd + gn:].reshape(b, l, K * gn)
    return None


def _dt(node, ctx, u):
    dt = ctx.get(node["input"])
    bias = ctx.param("dt_bias") if node["bias"] else None
    lo, hi = node["limit"]
    return ref_dt_transform(dt, bias, node["softplus"], (lo, math.inf if hi is None else hi))


def _cross_scan(node, ctx, u):
    """A multi-order scan: v's float64 ref_cross_scan on the IR's order-major dt, B, C."""
    from .cross_scan import ref_cross_scan

    h, p, g, n = node["nheads"], node["headdim"], node["ngroups"], node["dState"]
    K = SCAN_ORDERS[node["directions"]]
    x = ctx.get(node["x"])
    b, l = x.shape[:2]
    if ctx.image is not None:
        height, width = ctx.image
    elif node["directions"] == "bidirectional":
        height, width = 1, l
    else:
        raise IRInterpretError(f"scan {node['id']!r}: directions 'cross2d' needs the Input's image size")
    dt = ctx.get(node["dt"]).reshape(b, l, K, h).transpose(1, 2)
    B = ctx.get(node["B"]).reshape(b, l, K, g, n).transpose(1, 2)
    C = ctx.get(node["C"]).reshape(b, l, K, g, n).transpose(1, 2)
    A = -torch.exp(ctx.param("A_log")).reshape(K, h)
    # dt is already transformed by its DtTransform node (see _scan)
    y = ref_cross_scan(x.reshape(b, l, h, p), dt, A, B, C, height, width, node["directions"],
                       dt_softplus=False, dt_limit=(-math.inf, math.inf))
    return y.to(F64).reshape(b, l, h * p)


def _scan(node, ctx, u):
    if node.get("directions") not in (None, "forward"):
        return _cross_scan(node, ctx, u)
    h, p, g, n = node["nheads"], node["headdim"], node["ngroups"], node["dState"]
    x = ctx.get(node["x"])
    b, l = x.shape[:2]
    x = x.reshape(b, l, h, p)
    dt = ctx.get(node["dt"]).reshape(b, l, h)
    B = ctx.get(node["B"]).reshape(b, l, g, n)
    C = ctx.get(node["C"]).reshape(b, l, g, n)
    A = -torch.exp(ctx.param("A_log"))
    init = None
    if node["learnableInitStates"]:
        init = ctx.param("init_states").reshape(h, p, n).unsqueeze(0).expand(b, h, p, n)
    # dt is already transformed by its DtTransform node: no softplus and no
    # clamp here (an explicit (-inf, inf) so the scan's default (0, inf) does
    # not clip a model whose dt may legitimately be negative).
    y = ref_scan(
        x, dt, A, B, C,
        D=None, z=None, dt_bias=None, initial_states=init, seq_idx=ctx.seq_idx,
        dt_softplus=False, dt_limit=(-math.inf, math.inf), return_final_states=False,
    )
    if isinstance(y, tuple):
        y = y[0]
    return y.to(F64).reshape(b, l, h * p)


def _dskip(node, ctx, u):
    y = ctx.get(node["y"])
    x = ctx.get(node["x"])
    h, p = node["nheads"], node["headdim"]
    K = node.get("orders", 1)  # one D per scan order: y + sum_k D_k x
    D = ctx.param("D")
    D = D.reshape(K, h, p).sum(0) if node["perChannel"] else D.reshape(K, h).sum(0).reshape(h, 1).expand(h, p)
    return y + x * D.reshape(h * p)


def _gate(node, ctx, u):
    return ctx.get(node["y"]) * ref_silu(ctx.get(node["z"]))


def _rmsnorm(node, ctx, u):
    y = ctx.get(node["y"])
    z = ctx.get(node["z"]) if node.get("z") is not None else None
    return ref_rmsnorm_gated(
        y, ctx.param(f"{node['param']}.weight"), z,
        eps=node["eps"], group_size=node["groupSize"], norm_before_gate=node["normBeforeGate"],
    )


def _output(node, ctx, u):
    out = ctx.get(node["input"])
    if ctx.image_out:
        out = out.reshape(out.shape[0], *ctx.image, out.shape[-1])
    return out


# One entry per NodeKind of nodes.ts: a kind missing here fails loudly below.
NODE_EVAL: Dict[str, Callable] = {
    "Input": _input,
    "Linear": _linear,
    "Split": _split,
    "CausalConv1d": _conv,
    "DepthwiseConv2d": _conv2d,
    "ScanProjection": _scan_projection,
    "DtTransform": _dt,
    "SsdScan": _scan,
    "DSkip": _dskip,
    "Gate": _gate,
    "RMSNorm": _rmsnorm,
    "Output": _output,
}


def ref_block(ir: dict, state_dict: Mapping[str, Tensor], u: Tensor, seq_idx: Optional[Tensor] = None) -> Tensor:
    """u: [batch, seqlen, features] -> float64 [batch, seqlen, features] per ir.json.
    A model with an image input takes u [batch, height, width, features] (and returns
    that shape) or its row-major tokens [batch, height*width, features]."""
    ctx = _Ctx(state_dict, seq_idx)
    for node in ir["nodes"]:
        fn = NODE_EVAL.get(node["kind"])
        if fn is None:
            raise IRInterpretError(
                f"node {node.get('id')!r} has kind {node['kind']!r}, which the reference does not know "
                f"(known: {sorted(NODE_EVAL)}). Add it to reference/graph.py."
            )
        out = fn(node, ctx, u)
        if out is not None:
            ctx.values[node["id"]] = out
    return ctx.get(ir["output"]).to(F64)
