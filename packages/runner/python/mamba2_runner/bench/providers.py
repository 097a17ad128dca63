"""What the bench times: each provider is a callable built for one config.

SSD configs:
- `fused`, `chunked`: the generated mamba_chunk_scan_combined(..., impl=...)
  of --pkg; `fused@LABEL`, `chunked@LABEL`: the same from a --compare-pkg
  package, imported under its own module name so both live in one process.
- `torch`: torch_ssd below, a naive chunked SSD in eager PyTorch (fp32
  math). It is a *baseline provider being timed* (what a user without any
  kernels would write), not a reference: correctness is judged against the
  float64 mamba2_runner.reference for every provider alike.
- `mamba_ssm`: the incumbent's mamba_chunk_scan_combined, chunk 256.
Block configs:
- `generated` (and `generated@LABEL`): the generated nn.Module;
- `mamba_ssm`: mamba_ssm's Mamba2Simple(use_mem_eff_path=False), with the
  same weights (its conv is causal-conv1d's when that extension loaded);
- `mamba_ssm_fused`: Mamba2Simple(use_mem_eff_path=True), i.e.
  mamba_split_conv1d_scan_combined, as its users run it; it needs
  causal-conv1d's CUDA extension, and is skipped with the reason without it.
"""
from __future__ import annotations

import importlib
import math
from pathlib import Path
from types import ModuleType
from typing import Callable, Dict, List, Optional

from ..pkgload import load_generated, load_ir, read_manifest
from .baseline import BASELINE_DIR, ROOT, load_mamba_ssm
from .configs import BlockConfig, SsdConfig

SSD_PROVIDERS = ("fused", "chunked", "torch", "mamba_ssm")
BLOCK_PROVIDERS = ("generated", "mamba_ssm", "mamba_ssm_fused")
BASELINES = ("mamba_ssm", "mamba_ssm_fused")  # the incumbent: its failures do not fail the run
OURS = ("fused", "chunked", "generated")  # the providers a --compare-pkg package also runs as NAME@LABEL
BASELINE_CHUNK = 256


class Skip(Exception):
    """A provider that cannot run here (the reason is recorded)."""


def base_name(provider: str) -> str:
    """'fused@old' -> 'fused'."""
    return provider.split("@", 1)[0]


def resolve_path(p: str | Path) -> Path:
    path = Path(p)
    if path.is_absolute() or path.exists():
        return path.resolve()
    return (ROOT / path).resolve()


class Package:
    """One generated package: the module, its chunk size, or why it is missing."""

    def __init__(self, path: Path, alias: Optional[str] = None):
        self.path = path
        self.mod: Optional[ModuleType] = None
        self.error: Optional[str] = None
        self.chunk: Optional[int] = None
        try:
            self.mod = load_generated(path, alias=alias)
            self.chunk = importlib.import_module(self.mod.__name__ + "._config").CHUNK_SIZE
        except Exception as e:  # recorded per provider as skipped
            self.error = f"cannot load generated package {path}: {type(e).__name__}: {e}"


def _package_in(root: Path, name: str) -> Optional[Path]:
    """A --compare-pkg folder is a package itself, or holds packages by name
    (directly, under kernels-out/ or under bench/pkgs/)."""
    for cand in (root / name, root / "kernels-out" / name, root / "bench" / "pkgs" / name):
        if (cand / "manifest.json").is_file():
            return cand
    return None


class Ctx:
    """The run's packages and baseline, loaded once."""

    def __init__(self, args, device: str):
        self.args = args
        self.device = device
        self.chunk_size: Optional[int] = args.chunk_size
        self.main = Package(resolve_path(args.pkg))
        self.pkg_dir, self.pkg, self.pkg_error, self.pkg_chunk = (
            self.main.path, self.main.mod, self.main.error, self.main.chunk)
        self.compare: Dict[str, Path] = {k: resolve_path(v) for k, v in getattr(args, "compare_map", {}).items()}
        self._packages: Dict[tuple, Package] = {}
        self._baseline = None
        self._baseline_error: Optional[str] = None
        # (record, fn, inputs): CUDA-graph timings run after every plain timing,
        # so a capture that goes wrong cannot spoil the other configs
        self.graph_jobs: List[tuple] = []

    def package(self, label: Optional[str], path: Path) -> Package:
        """The generated package at `path` (label None: as itself; else under an alias)."""
        key = (label, str(path))
        if key not in self._packages:
            if label is None and path == self.main.path:
                self._packages[key] = self.main
            else:
                alias = None
                if label is not None:
                    alias = f"{read_manifest(path)['name']}__{_ident(label)}"
                self._packages[key] = Package(path, alias=alias)
        return self._packages[key]

    def compare_package(self, label: str, name: str) -> Package:
        """The --compare-pkg LABEL package for a package folder named `name`:
        DIR/<name>, DIR/kernels-out/<name>, DIR/bench/pkgs/<name>, else DIR itself
        when DIR is a package."""
        root = self.compare[label]
        found = _package_in(root, name)
        if found is None and (root / "manifest.json").is_file():
            found = root
        if found is None:
            raise Skip(f"--compare-pkg {label}={root}: no generated package {name} in it "
                       f"(looked in {root}/{name}, {root}/kernels-out/{name}, {root}/bench/pkgs/{name})")
        pkg = self.package(label, found)
        if pkg.mod is None:
            raise Skip(pkg.error)
        return pkg

    def baseline(self):
        if self.device != "cuda":
            raise Skip("mamba_ssm's kernels need CUDA")
        if self._baseline is None and self._baseline_error is None:
            try:
                self._baseline = load_mamba_ssm(self.args.baseline)
            except Exception as e:
                self._baseline_error = f"mamba_ssm not importable: {type(e).__name__}: {e}"
        if self._baseline is None:
            raise Skip(self._baseline_error)
        return self._baseline


def _ident(label: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in label)


def expand_providers(providers: List[str], labels: List[str], table: tuple) -> List[str]:
    """The providers of one kind of row, each of ours followed by its
    NAME@LABEL twins (side by side, so the two are timed back to back)."""
    out: List[str] = []
    for p in providers:
        if p not in table or p in out:
            continue
        out.append(p)
        if p in OURS:
            out += [f"{p}@{lb}" for lb in labels]
    return out


# ---------------------------------------------------------------- naive PyTorch SSD (a timed baseline)

def torch_ssd(x, dt, A, B, C, chunk_size, D=None, z=None, dt_bias=None, initial_states=None,
              dt_softplus=False, dt_limit=(0.0, math.inf), return_final_states=False):
    """The chunked SSD in plain eager PyTorch (fp32 math), from shared/MAMBA2.md:
    the `torch` provider, timed as what a user without kernels runs.
    x: [b, l, h, p], dt: [b, l, h], A: [h], B, C: [b, l, g, n], D: [h] or [h, p],
    z: [b, l, h, p], initial_states: [b, h, p, n]. Returns out (dtype of x)
    [, final_states fp32 [b, h, p, n]]."""
    import torch
    import torch.nn.functional as F

    f32 = torch.float32
    b, l, h, p = x.shape
    g, n = B.shape[2], B.shape[3]
    q = chunk_size
    dt = dt.to(f32)
    if dt_bias is not None:
        dt = dt + dt_bias.to(f32)
    if dt_softplus:
        dt = torch.where(dt > 20.0, dt, torch.log1p(torch.exp(dt)))
    dt = dt.clamp(dt_limit[0], dt_limit[1])

    pad = (-l) % q  # padded steps have dt = 0: no decay, no input
    nc = (l + pad) // q
    X = F.pad(x.to(f32), (0, 0, 0, 0, 0, pad)).view(b, nc, q, h, p)
    DT = F.pad(dt, (0, 0, 0, pad)).view(b, nc, q, h)
    Bh = F.pad(B.to(f32).repeat_interleave(h // g, dim=2), (0, 0, 0, 0, 0, pad)).view(b, nc, q, h, n)
    Ch = F.pad(C.to(f32).repeat_interleave(h // g, dim=2), (0, 0, 0, 0, 0, pad)).view(b, nc, q, h, n)

    cs = torch.cumsum(DT * A.to(f32), dim=2)  # [b, c, q, h]
    causal = torch.ones(q, q, dtype=torch.bool, device=x.device).tril()
    seg = (cs[:, :, :, None, :] - cs[:, :, None, :, :]).masked_fill(~causal[:, :, None], -math.inf)
    Xdt = X * DT[..., None]
    scores = torch.einsum("bcihn,bcjhn->bcijh", Ch, Bh) * torch.exp(seg)
    Y = torch.einsum("bcijh,bcjhp->bcihp", scores, Xdt)

    decay_to_end = torch.exp(cs[:, :, -1:, :] - cs)  # [b, c, q, h]
    chunk_states = torch.einsum("bcjhn,bcjhp->bchpn", Bh, Xdt * decay_to_end[..., None])
    chunk_decay = torch.exp(cs[:, :, -1, :])  # [b, c, h]
    S = initial_states.to(f32) if initial_states is not None else x.new_zeros(b, h, p, n, dtype=f32)
    states_in = []
    for c in range(nc):
        states_in.append(S)
        S = chunk_decay[:, c, :, None, None] * S + chunk_states[:, c]
    S_in = torch.stack(states_in, dim=1)  # [b, c, h, p, n]
    Y = Y + torch.einsum("bcihn,bchpn->bcihp", Ch, S_in) * torch.exp(cs)[..., None]

    y = Y.reshape(b, nc * q, h, p)[:, :l]
    if D is not None:
        Df = D.to(f32)
        y = y + x.to(f32) * (Df[:, None] if Df.dim() == 1 else Df)
    if z is not None:
        y = y * F.silu(z.to(f32))
    out = y.to(x.dtype)
    return (out, S) if return_final_states else out


# ---------------------------------------------------------------- SSD providers

def ssd_provider(name: str, ctx: Ctx, cfg: SsdConfig) -> tuple[Callable[[dict], object], int]:
    """Returns (fn(inputs) -> out, chunk size)."""
    base, _, label = name.partition("@")
    if base in ("fused", "chunked"):
        if label:
            if label not in ctx.compare:
                raise KeyError(f"provider {name!r}: no --compare-pkg {label}=DIR was given")
            pkg = ctx.compare_package(label, ctx.main.path.name)
        else:
            pkg = ctx.main
        if pkg.mod is None:
            raise Skip(pkg.error or "no generated package")
        q = ctx.chunk_size or cfg.chunk or pkg.chunk
        op = pkg.mod.mamba_chunk_scan_combined

        def fn(i, _op=op, _q=q, _impl=base):
            return _op(i["x"], i["dt"], i["A"], i["B"], i["C"], _q, D=i["D"], z=i["z"],
                       dt_bias=i["dt_bias"], dt_softplus=True, impl=_impl)
        return fn, q
    if name == "torch":
        q = ctx.chunk_size or cfg.chunk or BASELINE_CHUNK

        def fn(i, _q=q):
            return torch_ssd(i["x"], i["dt"], i["A"], i["B"], i["C"], _q, D=i["D"], z=i["z"],
                             dt_bias=i["dt_bias"], dt_softplus=True)
        return fn, q
    if name == "mamba_ssm":
        op = ctx.baseline()["mamba_chunk_scan_combined"]

        def fn(i, _op=op):
            return _op(i["x"], i["dt"], i["A"], i["B"], i["C"], BASELINE_CHUNK, D=i["D"], z=i["z"],
                       dt_bias=i["dt_bias"], dt_softplus=True)
        return fn, BASELINE_CHUNK
    raise KeyError(f"unknown SSD provider {name!r} (known: {', '.join(SSD_PROVIDERS)}, and fused@LABEL, "
                   "chunked@LABEL with --compare-pkg LABEL=DIR)")


# ---------------------------------------------------------------- block providers

def block_pkg_dir(cfg: BlockConfig, ctx: Ctx) -> Path:
    """The generated package for a block config's d_model."""
    if cfg.d_model is None:
        return ctx.main.path
    mapping = ctx.args.block_pkgs_map
    if cfg.d_model in mapping:
        return resolve_path(mapping[cfg.d_model])
    for default in (ROOT / "kernels-out" / f"bench_block_{cfg.d_model}",
                    ROOT / "bench" / "pkgs" / f"bench_block_{cfg.d_model}"):
        if default.is_dir():
            return default
    try:  # the main package, if it was generated for this d_model
        if ir_d_model(load_ir(ctx.main.path)) == cfg.d_model:
            return ctx.main.path
    except Exception:
        pass
    raise Skip(f"no generated package for d_model {cfg.d_model}: generate kernels-out/bench_block_{cfg.d_model} "
               f"or pass --block-pkgs {cfg.d_model}=<dir>")


def ir_d_model(ir: dict) -> int:
    for node in ir["nodes"]:
        if node.get("kind") == "Input":
            return int(node["features"])
    return int(ir["config"]["dModel"])


def block_dims(ir: dict) -> dict:
    """Mamba2Simple's constructor arguments, read from the IR's nodes (the
    Graph's `config` as a fallback)."""
    c = ir.get("config", {})
    scan = next((nd for nd in ir["nodes"] if nd.get("kind") == "SsdScan"), {})
    conv = next((nd for nd in ir["nodes"] if nd.get("kind") == "CausalConv1d"), {})
    d_model = ir_d_model(ir)
    headdim = int(scan.get("headdim", c.get("headdim", 64)))
    d_inner = int(scan["nheads"]) * headdim if "nheads" in scan else int(c.get("expand", 2)) * d_model
    return {
        "d_model": d_model,
        "d_inner": d_inner,
        "expand": d_inner // d_model,
        "headdim": headdim,
        "nheads": d_inner // headdim,
        "d_state": int(scan.get("dState", c.get("dState", 128))),
        "ngroups": int(scan.get("ngroups", c.get("ngroups", 1))),
        "d_conv": int(conv.get("width", c.get("dConv", 4))),
    }


def make_generated_module(pkg: ModuleType, ir: dict, device: str):
    import torch

    cls = getattr(pkg, ir["className"])
    errors = []
    # the seed's constructor (d_model first; the class checks it against the model
    # file) chooses each parameter's dtype itself (A_log, D may stay fp32)
    for args in ((ir_d_model(ir),), ()):
        try:
            return cls(*args, device=device, dtype=torch.bfloat16).eval()
        except TypeError as e:
            errors.append(str(e))
    try:
        return cls().to(device=device, dtype=torch.bfloat16).eval()
    except TypeError as e:
        errors.append(str(e))
    raise TypeError(f"cannot construct {ir['className']}: {errors}")


def same_weights(mod, sd: dict, device: str):
    """Load the generated module's state_dict into `mod` (same keys and shapes,
    or it raises) and keep its dtypes (e.g. fp32 A_log)."""
    import torch

    mod.load_state_dict(sd, strict=True)
    with torch.no_grad():
        for name, prm in mod.named_parameters():
            if prm.dtype != sd[name].dtype:
                prm.data = sd[name].detach().to(device).clone()
    return mod


def make_baseline_block(ctx: Ctx, ir: dict, sd: dict, fused: bool):
    """mamba_ssm's Mamba2Simple on the generated module's weights; fused =
    use_mem_eff_path (mamba_split_conv1d_scan_combined), which needs causal-conv1d."""
    import torch

    base = ctx.baseline()
    if fused and base["fused_unavailable"]:
        raise Skip(base["fused_unavailable"])
    dims = block_dims(ir)
    kwargs = dict(
        d_state=dims["d_state"], d_conv=dims["d_conv"], expand=dims["expand"],
        headdim=dims["headdim"], ngroups=dims["ngroups"],
        learnable_init_states="init_states" in sd, bias="in_proj.bias" in sd, conv_bias="conv1d.bias" in sd,
        chunk_size=BASELINE_CHUNK, use_mem_eff_path=fused, device=ctx.device, dtype=torch.bfloat16,
    )
    dt_node = next((nd for nd in ir["nodes"] if nd.get("kind") == "DtTransform"), {})
    lim = dt_node.get("limit")
    if isinstance(lim, (list, tuple)) and len(lim) == 2:
        kwargs["dt_limit"] = tuple(math.inf if v is None else float(v) for v in lim)
    mod = base["Mamba2Simple"](dims["d_model"], **kwargs).eval()
    return same_weights(mod, sd, ctx.device)


def block_module(prov: str, ctx: Ctx, cfg: BlockConfig, gen, pkg_dir: Path, ir: dict, sd: dict):
    """The nn.Module that provider `prov` times for this block config."""
    base, _, label = prov.partition("@")
    if prov == "generated":
        return gen
    if base == "generated" and label:
        if label not in ctx.compare:
            raise KeyError(f"provider {prov!r}: no --compare-pkg {label}=DIR was given")
        pkg = ctx.compare_package(label, pkg_dir.name)
        other_ir = load_ir(pkg.path)
        if ir_d_model(other_ir) != ir_d_model(ir):
            raise Skip(f"--compare-pkg {label}: {pkg.path} is for d_model {ir_d_model(other_ir)}, "
                       f"this config needs {ir_d_model(ir)}")
        return same_weights(make_generated_module(pkg.mod, other_ir, ctx.device), sd, ctx.device)
    if prov in BASELINES:
        return make_baseline_block(ctx, ir, sd, fused=prov == "mamba_ssm_fused")
    raise KeyError(f"unknown block provider {prov!r} (known: {', '.join(BLOCK_PROVIDERS)}, generated@LABEL)")


__all__ = ["BASELINE_CHUNK", "BASELINE_DIR", "BASELINES", "BLOCK_PROVIDERS", "Ctx", "OURS", "SSD_PROVIDERS",
           "Skip", "base_name", "block_dims", "block_module", "block_pkg_dir", "expand_providers",
           "make_generated_module", "resolve_path", "ssd_provider", "torch_ssd"]
