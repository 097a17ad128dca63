# generated from examples/mamba2-stateful.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 28c133f5208b79443bad7b2823c4e58c73662dcc204c1fd05b08cd746e622021
# copied from packages/kernels/python/mamba2_kernels/launch.py
"""Launch configuration: how the kernels are launched, apart from what they compute.

A LaunchConfig holds, per kernel, its tile sizes, warps, stages and split
choices, each section with the library file it belongs to and its kernel sha
(`kernel_sha`: over that file and what it imports in the library, None when not
recorded; mamba2_runner.sweep_provenance.kernel_set_sha), plus the rows `pnpm gen
--tuned` measured by shape (`Tuned`, with the GPU they were measured on).
It is frozen and hashable. The model's IR says what a block computes; this
says how fast it runs, so tuning never changes the model's IR hash.

A generated package's `_config.py` builds one `LAUNCH = LaunchConfig(...)`
(codegen's defaults, `pnpm gen` flags, the tuned rows); the library's own
`_config.py` uses the defaults below, which equal codegen's
(packages/codegen/src/lower/launch.ts). Kernels read `_config.LAUNCH`;
arguments passed to a kernel call win over it. The JSON form (manifest.json
"launch", `to_dict`/`from_dict`) uses exactly these field names. A new
kernel (e.g. a decode step) gets a section here and in the TS schema
(packages/dsl/src/ir/launch.ts).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Optional, Tuple

SCAN_IMPLS = ("fused", "chunked")


def _pow2(name: str, v: int, lo: int, hi: int, zero_ok: bool = False) -> None:
    if zero_ok and v == 0:
        return
    if not (isinstance(v, int) and lo <= v <= hi and v & (v - 1) == 0):
        auto = "0 (auto) or " if zero_ok else ""
        raise ValueError(f"{name} must be {auto}a power of two in {lo}..{hi}, got {v!r}")


def _warps(name: str, v: int) -> None:
    if v not in (1, 2, 4, 8, 16):
        raise ValueError(f"{name} must be 1, 2, 4, 8 or 16, got {v!r}")


@dataclass(frozen=True)
class FusedScan:
    """kernels/ssd_fused.py. block_p 0: picked per call from batch * heads.
    block_q: the walk's time tile. num_warps, num_stages: the one-launch kernel
    (short walks); t_num_warps, t_num_stages: the T+pre path (long walks);
    split: L-segments of the T+pre walk, 0 = picked per call (1, 2 or 4)."""
    block_p: int = 0
    block_q: int = 32
    num_warps: int = 4
    num_stages: int = 2
    t_num_warps: int = 4
    t_num_stages: int = 3
    split: int = 0
    kernel: str = "kernels/ssd_fused.py"
    kernel_sha: Optional[str] = None

    def __post_init__(self):
        _pow2("fused.block_p", self.block_p, 16, 256, zero_ok=True)
        _pow2("fused.block_q", self.block_q, 16, 256)
        _warps("fused.num_warps", self.num_warps)
        _warps("fused.t_num_warps", self.t_num_warps)
        if self.split not in (0, 1, 2, 4, 8):
            raise ValueError(f"fused.split must be 0 (auto), 1, 2, 4 or 8, got {self.split!r}")


@dataclass(frozen=True)
class ChunkedScan:
    """kernels/ssd_chunked.py. chunk_size: the chunk length Q (the module's chunk_size default)."""
    chunk_size: int = 256
    block_p: int = 0
    num_warps: int = 4
    kernel: str = "kernels/ssd_chunked.py"
    kernel_sha: Optional[str] = None

    def __post_init__(self):
        _pow2("chunked.chunk_size", self.chunk_size, 16, 256)
        _pow2("chunked.block_p", self.block_p, 16, 256, zero_ok=True)
        _warps("chunked.num_warps", self.num_warps)


@dataclass(frozen=True)
class ScanBwd:
    """kernels/ssd_bwd.py. impl: the backward version (env MAMBA2_SSD_BWD wins).
    block_p 0: min(64, next_pow2(headdim)). num_warps: the per-chunk gradient
    kernel; walk_warps: v4's state walks."""
    impl: str = "v6"
    block_p: int = 0
    block_q: int = 32
    num_warps: int = 8
    walk_warps: int = 4
    kernel: str = "kernels/ssd_bwd.py"
    kernel_sha: Optional[str] = None

    def __post_init__(self):
        _pow2("bwd.block_p", self.block_p, 16, 256, zero_ok=True)
        _pow2("bwd.block_q", self.block_q, 16, 256)
        _warps("bwd.num_warps", self.num_warps)
        _warps("bwd.walk_warps", self.walk_warps)


@dataclass(frozen=True)
class Conv:
    """kernels/conv.py; conv_bwd.py reads the same."""
    block_l: int = 64
    block_c: int = 64
    num_warps: int = 4
    kernel: str = "kernels/conv.py"
    kernel_sha: Optional[str] = None

    def __post_init__(self):
        _pow2("conv.block_l", self.block_l, 16, 1024)
        _pow2("conv.block_c", self.block_c, 16, 1024)
        _warps("conv.num_warps", self.num_warps)


@dataclass(frozen=True)
class Norm:
    """kernels/norm.py; norm_bwd.py reads the same."""
    num_warps: int = 4
    kernel: str = "kernels/norm.py"
    kernel_sha: Optional[str] = None

    def __post_init__(self):
        _warps("norm.num_warps", self.num_warps)


@dataclass(frozen=True)
class TunedRow:
    """Fused-scan settings for `nheads` heads and seqlen up to `max_seqlen`; None keeps the default."""
    nheads: int
    max_seqlen: int
    block_q: Optional[int] = None
    block_p: Optional[int] = None
    num_warps: Optional[int] = None
    num_stages: Optional[int] = None


@dataclass(frozen=True)
class Tuned:
    """Rows from `pnpm gen --tuned`, measured on `kernel` at `kernel_sha`, on `gpu`."""
    rows: Tuple[TunedRow, ...] = ()
    kernel: str = "kernels/ssd_fused.py"
    kernel_sha: Optional[str] = None
    gpu: Optional[str] = None
    source: Optional[str] = None

    def row(self, nheads: int, seqlen: int) -> Optional[TunedRow]:
        """The smallest seqlen bucket of this head count that covers seqlen,
        else its largest bucket, else None (shapes outside the table keep the defaults)."""
        rows = sorted((r for r in self.rows if r.nheads == nheads), key=lambda r: r.max_seqlen)
        for r in rows:
            if seqlen <= r.max_seqlen:
                return r
        return rows[-1] if rows else None


@dataclass(frozen=True)
class LaunchConfig:
    """Every launch setting of one package (see the module docstring)."""
    scan_impl: str = "fused"
    fused: FusedScan = field(default_factory=FusedScan)
    chunked: ChunkedScan = field(default_factory=ChunkedScan)
    bwd: ScanBwd = field(default_factory=ScanBwd)
    conv: Conv = field(default_factory=Conv)
    norm: Norm = field(default_factory=Norm)
    tuned: Optional[Tuned] = None

    def __post_init__(self):
        if self.scan_impl not in SCAN_IMPLS:
            raise ValueError(f"scan_impl must be one of {SCAN_IMPLS}, got {self.scan_impl!r}")

    def tuned_row(self, nheads: int, seqlen: int) -> Optional[TunedRow]:
        """The tuned row for (nheads, seqlen), or None (no table, or no row of that head count)."""
        return None if self.tuned is None else self.tuned.row(nheads, seqlen)

    def to_dict(self) -> dict:
        """The JSON form (manifest.json "launch"): nested dicts, rows as a list."""
        d = asdict(self)
        if d["tuned"] is not None:
            d["tuned"]["rows"] = list(d["tuned"]["rows"])
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "LaunchConfig":
        """Inverse of to_dict; unknown keys are refused (a typo would silently keep a default)."""
        sections = {"fused": FusedScan, "chunked": ChunkedScan, "bwd": ScanBwd, "conv": Conv, "norm": Norm}
        _known(cls, d, "launch")
        kw = {"scan_impl": d.get("scan_impl", "fused")}
        for name, typ in sections.items():
            if name in d:
                _known(typ, d[name], name)
                kw[name] = typ(**d[name])
        t = d.get("tuned")
        if t is not None:
            _known(Tuned, t, "tuned")
            rows = []
            for r in t.get("rows", ()):
                _known(TunedRow, r, "tuned row")
                rows.append(TunedRow(**r))
            kw["tuned"] = Tuned(**{**t, "rows": tuple(rows)})
        return cls(**kw)


def _known(typ, d: dict, what: str) -> None:
    names = {f.name for f in fields(typ)}
    extra = sorted(set(d) - names)
    if extra:
        raise ValueError(f"{what}: unknown key(s) {extra}; known: {sorted(names)}")
