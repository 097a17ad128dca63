"""verify's rows for a vision block (an image input and a multi-order scan:
visionMamba2 / VMamba's SS2D), against the float64 reference.

Called by verify.run_verify when the package's ir.json has an image input.
Rows (same table, tolerances and pass rule as verify.py):
  'conv2d'              depthwise_conv2d vs reference.ops.ref_depthwise_conv2d
  'cross_scan'          cross_scan_combined with the model's flags (dt_bias,
                        softplus, dt_limit, D) vs reference.cross_scan.ref_cross_scan,
                        at the model's image and at a non-square image whose
                        token count is not a multiple of the chunk; '+z' adds the gate
  'norm'                rmsnorm_gated (verify.Checker.norm)
  'block'               the generated module on [b, H, W, d_model] vs ref_block
  'grad conv2d <t>'     dx, dweight, dbias vs autograd through the reference
  'grad cross_scan <t>' x, dt, A, B, C, D, dt_bias, z vs autograd through ref_cross_scan
  'grad block <t>'      u and every parameter vs autograd through ref_block
Inputs are fresh random data; outputs poisoned on CUDA (verify._poison).
"""
from __future__ import annotations

import math
from typing import Any, Dict, List

from .reference import ref_block
from .reference.ops import ref_depthwise_conv2d

SCAN_ORDERS = {"bidirectional": 2, "cross2d": 4}


def is_vision(ir: dict) -> bool:
    return any(n["kind"] == "Input" and n.get("image") is not None for n in ir["nodes"])


def _one(ir: dict, kind: str):
    return next((n for n in ir["nodes"] if n["kind"] == kind), None)


def _limit(node: dict) -> tuple:
    lo, hi = node["limit"]
    return (float(lo), math.inf if hi is None else float(hi))


class VisionRows:
    """The vision rows, recorded through a verify.Checker (its record, make_module and norm)."""

    def __init__(self, chk):
        self.chk, self.ir, self.device = chk, chk.ir, chk.device
        self.image = (_one(self.ir, "Input")["image"]["height"], _one(self.ir, "Input")["image"]["width"])
        self.scan = _one(self.ir, "SsdScan")
        self.dtn = _one(self.ir, "DtTransform")
        self.dsk = _one(self.ir, "DSkip")
        self.conv = _one(self.ir, "DepthwiseConv2d")
        self.K = SCAN_ORDERS[self.scan["directions"]]

    # -- ops
    def conv2d(self, dtype, b, grads=False):
        import torch

        node = self.conv
        C, k = node["channels"], node["kernelSize"]
        H, W = self.image
        dt_ = getattr(torch, dtype)
        act = node["activation"]

        def inputs():
            x = torch.randn(b, H, W, C, device=self.device, dtype=dt_)
            w = (torch.randn(C, k, k, device=self.device) / k).to(dt_)
            bias = torch.randn(C, device=self.device, dtype=dt_) if node["bias"] else None
            return x, w, bias

        def run():
            x, w, bias = inputs()
            out = self.chk.pkg.depthwise_conv2d(x, w, bias, activation=act)
            assert out.dtype == dt_, f"depthwise_conv2d returned {out.dtype}, expected {dt_}"
            return out, ref_depthwise_conv2d(x, w, bias, act)

        def run_grads():
            from importlib import import_module

            autograd = import_module(self.chk.pkg.__name__ + ".conv2d_autograd").depthwise_conv2d_autograd
            ins = [t for t in inputs() if t is not None]
            names = ["x", "weight", "bias"][: len(ins)]
            leaves = [t.detach().clone().requires_grad_() for t in ins]
            out = autograd(leaves[0], leaves[1], leaves[2] if len(leaves) > 2 else None, act)
            gout = torch.randn_like(out)
            got = torch.autograd.grad(out, leaves, gout)
            l64 = [t.detach().to(torch.float64).requires_grad_() for t in ins]
            ref = ref_depthwise_conv2d(l64[0], l64[1], l64[2] if len(l64) > 2 else None, act)
            want = torch.autograd.grad(ref, l64, gout.to(torch.float64))
            return list(zip(names, got, want))

        shape = f"B{b}-H{H}-W{W}-C{C}-K{k}x{k}"
        if grads:
            self.chk.record("grad conv2d", shape, dtype, "grad", run_grads, note="autograd vs ref_depthwise_conv2d")
        else:
            self.chk.record("conv2d", shape, dtype, "elementwise", run)

    def _scan_inputs(self, dtype, b, H, W, with_z):
        import torch

        node, dev, K = self.scan, self.device, self.K
        h, p, g, n = node["nheads"], node["headdim"], node["ngroups"], node["dState"]
        dt_ = getattr(torch, dtype)
        L = H * W
        softplus = bool(self.dtn and self.dtn["softplus"])
        ins: Dict[str, Any] = {
            "x": torch.randn(b, L, h, p, device=dev, dtype=dt_),
            "B": torch.randn(b, K, L, g, n, device=dev, dtype=dt_),
            "C": torch.randn(b, K, L, g, n, device=dev, dtype=dt_),
            "A": -torch.empty(K, h, device=dev).uniform_(1.0, 16.0),
        }
        if softplus:
            dt0 = torch.exp(torch.empty(K, h, device=dev).uniform_(math.log(1e-3), math.log(0.1)))
            ins["dt"] = (0.5 * torch.randn(b, K, L, h, device=dev)).to(dt_)
            if self.dtn["bias"]:
                ins["dt_bias"] = dt0 + torch.log(-torch.expm1(-dt0))
        else:
            ins["dt"] = torch.empty(b, K, L, h, device=dev).uniform_(1e-3, 0.1).to(dt_)
        if self.dsk is not None:
            ins["D"] = torch.randn(K, h, device=dev)
        if with_z:
            ins["z"] = torch.randn(b, L, h, p, device=dev, dtype=dt_)
        kw = dict(dt_softplus=softplus, dt_limit=_limit(self.dtn) if self.dtn else (0.0, math.inf))
        return ins, kw

    def _call(self, fn, t, H, W, kw):
        extra = {k: t[k] for k in ("D", "z", "dt_bias") if k in t}
        return fn(t["x"], t["dt"], t["A"], t["B"], t["C"], H, W, self.scan["directions"], **extra, **kw)

    def cross_scan(self, dtype, b, H, W, with_z=False, grads=False):
        import torch

        from .reference.cross_scan import ref_cross_scan

        node = self.scan
        pkg = self.chk.pkg

        def run():
            ins, kw = self._scan_inputs(dtype, b, H, W, with_z)
            out = self._call(pkg.cross_scan_combined, ins, H, W, kw)
            assert out.dtype == ins["x"].dtype, f"cross_scan_combined returned {out.dtype}, expected {ins['x'].dtype}"
            return out, self._call(ref_cross_scan, ins, H, W, kw)

        def run_grads():
            ins, kw = self._scan_inputs(dtype, b, H, W, with_z)
            names = list(ins)
            leaves = {k: v.detach().clone().requires_grad_() for k, v in ins.items()}
            out = self._call(pkg.cross_scan_combined, leaves, H, W, kw)
            gout = torch.randn_like(out)
            got = torch.autograd.grad(out, [leaves[k] for k in names], gout, allow_unused=True)
            l64 = {k: v.detach().to(torch.float64).requires_grad_() for k, v in ins.items()}
            ref = self._call(ref_cross_scan, l64, H, W, kw)
            want = torch.autograd.grad(ref, [l64[k] for k in names], gout.to(torch.float64))
            return [(k, torch.zeros_like(ins[k]) if gk is None else gk, rk) for k, gk, rk in zip(names, got, want)]

        h, p, g, n = node["nheads"], node["headdim"], node["ngroups"], node["dState"]
        shape = f"B{b}-H{H}-W{W}-K{self.K}-H{h}-P{p}-G{g}-N{n}"
        name = f"cross_scan[{node['directions']}]" + (" +z" if with_z else "")
        if grads:
            self.chk.record("grad " + name, shape, dtype, "grad", run_grads, note="autograd vs ref_cross_scan")
        else:
            self.chk.record(name, shape, dtype, "dot", run)

    # -- the whole block
    def block(self, dtype, b, grads=False):
        import torch

        dt_ = getattr(torch, dtype)
        H, W = self.image
        features = _one(self.ir, "Input")["features"]
        ir = self.ir

        def run():
            m = self.chk.make_module(dtype)
            u = torch.randn(b, H, W, features, device=self.device, dtype=dt_)
            with torch.no_grad():
                out = m(u)
            if tuple(out.shape) != (b, H, W, features):
                raise AssertionError(f"{ir['className']} returned {tuple(out.shape)} for {(b, H, W, features)}")
            return out, ref_block(ir, dict(m.state_dict()), u)

        def run_grads():
            m = self.chk.make_module(dtype)
            u = torch.randn(b, H, W, features, device=self.device, dtype=dt_)
            gout = torch.randn(b, H, W, features, device=self.device, dtype=dt_)
            params = dict(m.named_parameters())
            u_leaf = u.clone().requires_grad_()
            m(u_leaf).backward(gout)
            sd64 = {k: v.detach().to(torch.float64).requires_grad_(k in params) for k, v in m.state_dict().items()}
            u64 = u.detach().to(torch.float64).requires_grad_()
            ref = ref_block(ir, sd64, u64)
            names = list(params)
            refs = torch.autograd.grad(ref, [u64] + [sd64[k] for k in names], gout.to(torch.float64), allow_unused=True)
            pairs = [("u", u_leaf.grad, refs[0])]
            for k, rk in zip(names, refs[1:]):
                gk = params[k].grad
                pairs.append((k, torch.zeros_like(params[k]) if gk is None else gk,
                              torch.zeros_like(sd64[k]) if rk is None else rk))
            return pairs

        shape = f"B{b}-H{H}-W{W}-D{features}"
        if grads:
            self.chk.record("grad block", shape, dtype, "grad", run_grads, note=f"{ir['className']} autograd vs ref_block")
        else:
            self.chk.record("block", shape, dtype, "block", run, note=f"{ir['className']} vs ref_block")


def run_vision(chk, dtypes: List[str], want: set, shapes: str) -> None:
    """Every vision row the model has, per dtype. `want`: verify's --ops set
    (conv stands for conv2d, scan for the cross scan)."""
    rows = VisionRows(chk)
    H, W = rows.image
    kinds = {n["kind"] for n in chk.ir["nodes"]}
    batches = [1, 2] if shapes == "quick" else [1, 2, 4]
    # a second image: not square, and H*W not a multiple of the chunk (the walk's tile, 16..256)
    other = (H + 1, W + 2) if (H + 1) * (W + 2) % 16 else (H + 1, W + 3)
    for dtype in dtypes:
        for b in batches:
            if "conv" in want and "DepthwiseConv2d" in kinds:
                rows.conv2d(dtype, b)
            if "scan" in want:
                rows.cross_scan(dtype, b, H, W)
            if "norm" in want and "RMSNorm" in kinds and hasattr(chk.pkg, "rmsnorm_gated"):
                chk.norm(dtype, b, H * W)
            if "block" in want:
                rows.block(dtype, b)
        if "scan" in want:
            rows.cross_scan(dtype, 2, *other)
            rows.cross_scan(dtype, 2, *other, with_z=True)
        if "grads" in want:
            if "DepthwiseConv2d" in kinds:
                rows.conv2d(dtype, 2, grads=True)
            rows.cross_scan(dtype, 2, *other, with_z=True, grads=True)
            rows.block(dtype, 2, grads=True)
