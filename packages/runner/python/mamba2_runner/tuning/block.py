"""A Mamba-2 block at any (d_model, headdim, d_state, Q), built from the kernel library, and its IR.

The model-level sweep needs 18 shapes of block (3 d_model x 3 headdim x 2
d_state) on a GPU machine without Node, where `pnpm gen` cannot run. Every
kernel of a generated package is a verbatim copy of packages/kernels, and its
module.py composes them in a fixed order; `LibraryBlock` composes the same
library ops in that order (in_proj, causal conv + SiLU, the fused SSD scan
with D and dt_bias/softplus, gated RMSNorm, out_proj: the seed's Mamba2Simple
defaults, expand 2, one group, d_conv 4) with the same parameter names, so
mamba_ssm's Mamba2Simple loads its state_dict unchanged. Q is the scan's
time tile, forward (ssd_fused block_q) and backward (ssd_bwd block_q): what a
package generated with `--block-q Q` and bwd block_q Q runs.

`block_ir` is the Graph `mamba2({dModel, headdim, dState})` builds
(packages/dsl), for the float64 interpreter ref_block; a test holds it equal
to the committed bench/pkgs/bench_block_1536/.../ir.json, so it cannot drift
from the DSL unnoticed.
"""
from __future__ import annotations

import math
from typing import Optional

EXPAND, NGROUPS, D_CONV = 2, 1, 4


def dims(d_model: int, headdim: int, d_state: int) -> dict:
    d_inner = EXPAND * d_model
    h = d_inner // headdim
    conv_dim = d_inner + 2 * NGROUPS * d_state
    d_in_proj = 2 * d_inner + 2 * NGROUPS * d_state + h
    linear = d_model * d_in_proj + d_inner * d_model
    params = linear + conv_dim * (D_CONV + 1) + 3 * h + d_inner
    return {"d_model": d_model, "d_inner": d_inner, "nheads": h, "headdim": headdim, "d_state": d_state,
            "conv_dim": conv_dim, "d_in_proj": d_in_proj, "linear_params": linear, "params": params}


def block_ir(d_model: int, headdim: int, d_state: int, name: str = "sweep_block") -> dict:
    """The Graph nodes of mamba2({dModel: d_model, headdim, dState: d_state}) (seed defaults otherwise)."""
    d = dims(d_model, headdim, d_state)
    di, h, n = d["d_inner"], d["nheads"], d_state
    nodes = [
        {"features": d_model, "id": "u", "kind": "Input"},
        {"bias": False, "id": "in_proj", "inFeatures": d_model, "input": "u", "kind": "Linear", "outFeatures": d["d_in_proj"],
         "param": "in_proj"},
        {"id": "zxbcdt", "input": "in_proj", "kind": "Split",
         "parts": [{"name": "z", "size": di}, {"name": "xBC", "size": d["conv_dim"]}, {"name": "dt", "size": h}]},
        {"activation": "silu", "bias": True, "channels": d["conv_dim"], "id": "conv", "init": None, "input": "zxbcdt.xBC",
         "kind": "CausalConv1d", "param": "conv1d", "width": D_CONV},
        {"id": "xBC", "input": "conv", "kind": "Split",
         "parts": [{"name": "x", "size": di}, {"name": "B", "size": n}, {"name": "C", "size": n}]},
        {"bias": True, "dtInitFloor": 0.0001, "dtMax": 0.1, "dtMin": 0.001, "id": "dt", "input": "zxbcdt.dt",
         "kind": "DtTransform", "limit": [0, None], "nheads": h, "softplus": True},
        {"B": "xBC.B", "C": "xBC.C", "aInitRange": [1, 16], "dState": n, "dt": "dt", "headdim": headdim, "id": "scan",
         "kind": "SsdScan", "learnableInitStates": False, "ngroups": NGROUPS, "nheads": h, "x": "xBC.x"},
        {"headdim": headdim, "id": "dskip", "kind": "DSkip", "nheads": h, "perChannel": False, "x": "xBC.x", "y": "scan"},
        {"eps": 1e-05, "features": di, "groupSize": di, "id": "norm", "kind": "RMSNorm", "normBeforeGate": False,
         "param": "norm", "y": "dskip", "z": "zxbcdt.z"},
        {"bias": False, "id": "out_proj", "inFeatures": di, "input": "norm", "kind": "Linear", "outFeatures": d_model,
         "param": "out_proj"},
        {"features": d_model, "id": "out", "input": "out_proj", "kind": "Output"},
    ]
    return {"kind": "Graph", "name": name, "nodes": nodes, "output": "out"}


def _scan_fn():
    import torch

    from mamba2_kernels.kernels.ssd_bwd import ssd_bwd
    from mamba2_kernels.kernels.ssd_fused import ssd_fused_fwd

    class Scan(torch.autograd.Function):
        """The library's fused forward and v4 backward at one time tile Q (explicit launch arguments)."""

        @staticmethod
        def forward(ctx, x, dt, A, B, C, D, dt_bias, q):
            out = ssd_fused_fwd(x, dt, A, B, C, q, D=D, dt_bias=dt_bias, dt_softplus=True, block_q=q)[0]
            ctx.save_for_backward(x, dt, A, B, C, D, dt_bias)
            ctx.q = q
            return out

        @staticmethod
        def backward(ctx, dout):
            x, dt, A, B, C, D, dt_bias = ctx.saved_tensors
            g = ssd_bwd(dout.contiguous(), x, dt, A, B, C, D=D, dt_bias=dt_bias, dt_softplus=True, block_q=ctx.q)
            return (g["dx"].to(x.dtype), g["ddt"].to(dt.dtype), g["dA"].to(A.dtype), g["dB"].to(B.dtype),
                    g["dC"].to(C.dtype), g["dD"].to(D.dtype), g["ddt_bias"].to(dt_bias.dtype), None)

    return Scan


_SCAN = None


def library_block(d_model: int, headdim: int, d_state: int, q: int, device: str, dtype, seed: Optional[int] = None):
    """nn.Module with Mamba2Simple's parameters; forward(u) runs the library kernels at time tile q."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    from mamba2_kernels.autograd import causal_conv1d_autograd, rmsnorm_gated_autograd

    global _SCAN
    if _SCAN is None:
        _SCAN = _scan_fn()
    scan = _SCAN
    d = dims(d_model, headdim, d_state)
    di, h, n, cd = d["d_inner"], d["nheads"], d_state, d["conv_dim"]
    gen = torch.Generator(device="cpu")
    if seed is not None:
        gen.manual_seed(seed)

    class LibraryBlock(nn.Module):
        def __init__(self):
            super().__init__()
            fk = {"device": device, "dtype": dtype}
            self.in_proj = nn.Linear(d_model, d["d_in_proj"], bias=False, **fk)
            self.conv1d = nn.Conv1d(cd, cd, D_CONV, groups=cd, padding=D_CONV - 1, bias=True, **fk)
            dt0 = torch.exp(torch.rand(h, generator=gen) * (math.log(0.1) - math.log(0.001)) + math.log(0.001)).clamp(min=1e-4)
            self.dt_bias = nn.Parameter((dt0 + torch.log(-torch.expm1(-dt0))).to(device=device, dtype=dtype))
            self.A_log = nn.Parameter(torch.log(torch.empty(h).uniform_(1, 16, generator=gen)).to(device=device, dtype=dtype))
            self.D = nn.Parameter(torch.ones(h, device=device))
            self.norm = nn.Module()
            self.norm.weight = nn.Parameter(torch.ones(di, **fk))
            self.out_proj = nn.Linear(di, d_model, bias=False, **fk)

        def forward(self, u):
            b, l, _ = u.shape
            zxbcdt = F.linear(u, self.in_proj.weight)
            z, xBC, dt = zxbcdt[..., :di], zxbcdt[..., di:di + cd], zxbcdt[..., di + cd:]
            xBC = causal_conv1d_autograd(xBC, self.conv1d.weight[:, 0, :], self.conv1d.bias, activation="silu")
            x = xBC[..., :di].unflatten(-1, (h, headdim))
            B = xBC[..., di:di + n].unflatten(-1, (1, n))
            C = xBC[..., di + n:].unflatten(-1, (1, n))
            A = -torch.exp(self.A_log.float())
            y = scan.apply(x, dt, A, B, C, self.D, self.dt_bias, q)
            y = rmsnorm_gated_autograd(y.reshape(b, l, di), self.norm.weight, z=z, eps=1e-5, group_size=None,
                                       norm_before_gate=False)
            return F.linear(y, self.out_proj.weight)

    mod = LibraryBlock()
    dgen = torch.Generator(device=device)  # drawn on the device: a d_model 2560 in_proj is 27M numbers
    dgen.manual_seed(int(torch.randint(0, 2 ** 31 - 1, (1,), generator=gen)))
    with torch.no_grad():  # random weights drawn here (not zeros or ones): every term is exercised by the check
        for name, prm in mod.named_parameters():
            if name in ("D", "norm.weight"):
                prm.copy_((1 + 0.3 * torch.randn(prm.shape, generator=dgen, device=device)).to(prm.dtype))
            elif prm.dim() >= 2:
                prm.copy_((torch.randn(prm.shape, generator=dgen, device=device) / math.sqrt(prm.shape[-1])).to(prm.dtype))
            elif name == "conv1d.bias":
                prm.copy_((0.1 * torch.randn(prm.shape, generator=dgen, device=device)).to(prm.dtype))
    return mod
