"""Named benchmark shapes (the table of shared/BENCH_TARGETS.md) and their floors.

Every config has a mode: "fwd" (the forward only) or "fwdbwd" (forward, then
the backward of a fixed random output gradient). A fwdbwd config is its fwd
config with "-fb" appended to the name (`fwdbwd(cfg)`), so rows of the two
modes never share a name.

floor = max(minimal bytes / BANDWIDTH, flops / MATMUL_RATE), with the two
ceilings measured on the lent H200. Minimal bytes: every input read once and
every output written once. Flops are counted as full chunk blocks at the
baseline's chunk (FLOOR_CHUNK = 256), as in BENCH_TARGETS.md:
    b*L*h*(2*Q*P + 4*N*P) + b*L*g*2*Q*N
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Dict, List, Optional, Union

BANDWIDTH = 4.27e12  # B/s, device copy (read + write) on the H200
MATMUL_RATE = 687e12  # flop/s, bf16 8192^3 matmul on the H200
FLOOR_CHUNK = 256

BF16, FP32 = 2, 4  # bytes per element


@dataclass(frozen=True)
class SsdConfig:
    """SSD forward: x/B/C/z bf16, dt fp32 (+dt_bias, softplus), A and D fp32 per head."""

    name: str
    batch: int
    seqlen: int
    nheads: int
    headdim: int = 64
    dstate: int = 128
    ngroups: int = 1
    has_z: bool = False
    chunk: Optional[int] = None  # chunk hint (tiny CPU shapes); None = the package's CHUNK_SIZE
    mode: str = "fwd"  # "fwd" | "fwdbwd"
    kind: str = field(default="ssd", init=False)

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class BlockConfig:
    """Whole-block forward (bf16): generated module vs mamba_ssm Mamba2Simple.
    d_model None = whatever the --pkg package was generated for (CPU check)."""

    name: str
    d_model: Optional[int]
    batch: int
    seqlen: int
    mode: str = "fwd"  # "fwd" | "fwdbwd"
    kind: str = field(default="block", init=False)

    def to_json(self) -> dict:
        return asdict(self)


Config = Union[SsdConfig, BlockConfig]

MODES = ("fwd", "fwdbwd", "both")
FB_SUFFIX = "-fb"


def fwdbwd(cfg: Config) -> Config:
    """The forward+backward twin of a forward config (name + '-fb')."""
    if cfg.mode == "fwdbwd":
        return cfg
    return replace(cfg, name=cfg.name + FB_SUFFIX, mode="fwdbwd")


def _ssd_pair(batch: int, seqlen: int, nheads: int, ngroups: int = 1, **kw) -> List[SsdConfig]:
    base = f"ssd-B{batch}-L{seqlen}-H{nheads}" + (f"-G{ngroups}" if ngroups != 1 else "")
    return [
        SsdConfig(base, batch, seqlen, nheads, ngroups=ngroups, **kw),
        SsdConfig(base + "-z", batch, seqlen, nheads, ngroups=ngroups, has_z=True, **kw),
    ]


# The default set ("all"): BENCH_TARGETS.md, in its order.
CONFIGS: Dict[str, Config] = {
    c.name: c
    for c in [
        *_ssd_pair(2, 128, 8),
        *_ssd_pair(8, 2048, 64),
        *_ssd_pair(4, 4096, 80),
        *_ssd_pair(1, 16384, 80),
        *_ssd_pair(4, 4096, 64, ngroups=8),
        BlockConfig("block-D256-B2-L128", 256, 2, 128),
        BlockConfig("block-D1536-B8-L2048", 1536, 8, 2048),
        BlockConfig("block-D2560-B4-L4096", 2560, 4, 4096),
    ]
}

# Small shapes for --check-only on CPU (Triton interpreter): several chunks, a
# ragged last chunk, two groups.
TINY_CONFIGS: Dict[str, Config] = {
    c.name: c
    for c in [
        *_ssd_pair(2, 100, 4, ngroups=2, headdim=16, dstate=16, chunk=32),
        BlockConfig("block-tiny-B1-L40", None, 1, 40),
    ]
}

# Shapes timed only forward+backward (issue 9's long-sequence training row); not in the forward table.
FB_ONLY_BASES: Dict[str, Config] = {
    c.name: c for c in [SsdConfig("ssd-B1-L65536-H80", 1, 65536, 80)]
}

# Forward+backward ("all" under --mode fwdbwd): the training targets of issue 9, bf16 as
# the forward configs. Any other forward config runs as NAME-fb when named.
FB_CONFIGS: Dict[str, Config] = {
    c.name: c
    for c in [
        fwdbwd({**CONFIGS, **FB_ONLY_BASES}[n])
        for n in ["ssd-B2-L128-H8", "ssd-B8-L2048-H64", "ssd-B4-L4096-H80", "ssd-B4-L4096-H64-G8",
                  "ssd-B1-L65536-H80", "block-D256-B2-L128", "block-D1536-B8-L2048", "block-D2560-B4-L4096"]
    ]
}
TINY_FB_CONFIGS: Dict[str, Config] = {c.name: c for c in [fwdbwd(c) for c in TINY_CONFIGS.values()]}

# Shapes small enough to also time under CUDA-graph replay (launch-bound; forward only).
GRAPH_MAX_TOKENS = 2 * 128


def resolve(names: str, tiny_default: bool = False, mode: str = "fwd") -> List[Config]:
    """'all' | 'tiny' | comma-separated names, under mode fwd | fwdbwd | both.

    'all'/'tiny': the forward table (fwd), the forward+backward table (fwdbwd),
    or the forward table then the forward+backward one (both). A name: NAME-fb
    is always the fwdbwd twin of NAME; a plain NAME runs as itself (fwd), as
    NAME-fb (fwdbwd), or both."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if names in ("", "default"):
        names = "tiny" if tiny_default else "all"
    if names in ("all", "tiny"):
        fwd = CONFIGS if names == "all" else TINY_CONFIGS
        fb = FB_CONFIGS if names == "all" else TINY_FB_CONFIGS
        return ([*fwd.values()] if mode != "fwdbwd" else []) + ([*fb.values()] if mode != "fwd" else [])
    table = {**CONFIGS, **TINY_CONFIGS, **FB_ONLY_BASES}
    out: List[Config] = []
    for n in [s.strip() for s in names.split(",") if s.strip()]:
        base = n[: -len(FB_SUFFIX)] if n.endswith(FB_SUFFIX) else n
        if base not in table:
            known = ", ".join(list(table) + [k + FB_SUFFIX for k in table])
            raise KeyError(f"unknown bench config {n!r}. Known: {known} (or 'all', 'tiny').")
        if n != base:
            out.append(fwdbwd(table[base]))
            continue
        if mode != "fwdbwd":
            out.append(table[base])
        if mode != "fwd":
            out.append(fwdbwd(table[base]))
    return out


# ---------------------------------------------------------------- floors

def ssd_flops(b: int, L: int, h: int, p: int, n: int, g: int, q: int = FLOOR_CHUNK) -> int:
    return b * L * h * (2 * q * p + 4 * n * p) + b * L * g * 2 * q * n


def ssd_bytes(b: int, L: int, h: int, p: int, n: int, g: int, has_z: bool) -> int:
    x = b * L * h * p * BF16
    bc = 2 * b * L * g * n * BF16
    dt = b * L * h * FP32
    per_head = 3 * h * FP32  # A, D, dt_bias
    z = x if has_z else 0
    out = b * L * h * p * BF16
    return x + bc + dt + per_head + z + out


def floor_from(nbytes: int, flops: int) -> dict:
    ms_bytes = nbytes / BANDWIDTH * 1e3
    ms_flops = flops / MATMUL_RATE * 1e3
    return {
        "bytes": nbytes,
        "flops": flops,
        "ms_bytes": ms_bytes,
        "ms_flops": ms_flops,
        "ms": max(ms_bytes, ms_flops),
        "bound": "bytes" if ms_bytes >= ms_flops else "flops",
        "chunk": FLOOR_CHUNK,
        "bandwidth": BANDWIDTH,
        "matmul_rate": MATMUL_RATE,
    }


def ssd_floor(cfg: SsdConfig) -> dict:
    dims = (cfg.batch, cfg.seqlen, cfg.nheads, cfg.headdim, cfg.dstate, cfg.ngroups)
    return floor_from(ssd_bytes(*dims, cfg.has_z), ssd_flops(*dims))


def ssd_fb_floor(cfg: SsdConfig) -> dict:
    """Forward+backward: every input read twice (forward, backward), out written,
    grad_out read, one gradient per input written (its dtype); flops 3x the
    forward's (the backward's two products per forward product)."""
    b, L, h, p, n, g = cfg.batch, cfg.seqlen, cfg.nheads, cfg.headdim, cfg.dstate, cfg.ngroups
    fwd = ssd_bytes(b, L, h, p, n, g, cfg.has_z)
    out = b * L * h * p * BF16
    inputs = fwd - out
    nbytes = 2 * inputs + out + out + inputs  # reads x2, out, grad_out, gradients
    fl = floor_from(nbytes, 3 * ssd_flops(b, L, h, p, n, g))
    fl["convention"] = "fwd+bwd: inputs read twice, out and grad_out once, gradients written; flops 3x forward"
    return fl


def config_floor(cfg: Config) -> Optional[dict]:
    """The floor of an SSD config in its mode (blocks need the package's dims: None)."""
    if not isinstance(cfg, SsdConfig):
        return None
    return ssd_fb_floor(cfg) if cfg.mode == "fwdbwd" else ssd_floor(cfg)


def block_floor(b: int, L: int, d_model: int, d_inner: int, nheads: int, headdim: int,
                d_state: int, ngroups: int, d_conv: int, weight_bytes: int, backward: bool = False) -> dict:
    """u read + out written (bf16) + every weight once; in/out projections, conv and the SSD.
    backward (fwdbwd mode): u and the weights read twice, grad_out read, du and every weight
    gradient written; flops 3x the forward's."""
    d_in_proj = 2 * d_inner + 2 * ngroups * d_state + nheads
    conv_dim = d_inner + 2 * ngroups * d_state
    flops = (
        2 * b * L * d_model * d_in_proj
        + 2 * b * L * d_inner * d_model
        + 2 * b * L * conv_dim * d_conv
        + ssd_flops(b, L, nheads, headdim, d_state, ngroups)
    )
    nbytes = 2 * b * L * d_model * BF16 + weight_bytes
    if not backward:
        return floor_from(nbytes, flops)
    act = b * L * d_model * BF16
    fl = floor_from(2 * act + act + act + act + 3 * weight_bytes, 3 * flops)
    fl["convention"] = "fwd+bwd: u and weights read twice, out and grad_out once, du and weight gradients written; flops 3x forward"
    return fl
