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

from .ops import ref_causal_conv1d, ref_dt_transform, ref_rmsnorm_gated, ref_silu
from .scan import ref_scan

F64 = torch.float64


class IRInterpretError(ValueError):
    """The IR names something the reference cannot find or does not know."""


class _Ctx:
    def __init__(self, state_dict: Mapping[str, Tensor], seq_idx: Optional[Tensor]):
        self.sd = state_dict
        self.seq_idx = seq_idx
        self.values: Dict[str, Tensor] = {}

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


def _dt(node, ctx, u):
    dt = ctx.get(node["input"])
    bias = ctx.param("dt_bias") if node["bias"] else None
    lo, hi = node["limit"]
    return ref_dt_transform(dt, bias, node["softplus"], (lo, math.inf if hi is None else hi))


def _scan(node, ctx, u):
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
    D = ctx.param("D")
    D = D.reshape(h, p) if node["perChannel"] else D.reshape(h, 1).expand(h, p)
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
    return ctx.get(node["input"])


# One entry per NodeKind of nodes.ts: a kind missing here fails loudly below.
NODE_EVAL: Dict[str, Callable] = {
    "Input": _input,
    "Linear": _linear,
    "Split": _split,
    "CausalConv1d": _conv,
    "DtTransform": _dt,
    "SsdScan": _scan,
    "DSkip": _dskip,
    "Gate": _gate,
    "RMSNorm": _rmsnorm,
    "Output": _output,
}


def ref_block(ir: dict, state_dict: Mapping[str, Tensor], u: Tensor, seq_idx: Optional[Tensor] = None) -> Tensor:
    """u: [batch, seqlen, features] -> float64 [batch, seqlen, features] per ir.json."""
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
