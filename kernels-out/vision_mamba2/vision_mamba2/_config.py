# generated from examples/vision-mamba2.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 973d21e2cf8d81c0e01a13580d2634dea1d19fba039c3bddcd8ee47c7c19c7c4
"""Launch configuration and model dimensions of vision_mamba2.

LAUNCH says how the kernels are launched (tiles, warps, stages, splits; see
launch.py): codegen's defaults, `pnpm gen` flags and `pnpm gen --tuned` rows,
each section with the sha256 of the kernel file it is for. It is not part of
the model's IR or its hash. The kernels read it; call arguments win.
"""
from .launch import ChunkedScan, Conv, FusedScan, LaunchConfig, Norm, ScanBwd

LAUNCH = LaunchConfig(
    scan_impl="fused",
    fused=FusedScan(
        block_p=0, block_q=32, num_warps=4, num_stages=2, t_num_warps=4, t_num_stages=3, split=0,
        kernel="kernels/ssd_fused.py", kernel_sha="cc657426687d9bab262ecbeadcf29a78aa79f140a2d227975c2e9b81eef0f71a",
    ),
    chunked=ChunkedScan(
        chunk_size=256, block_p=0, num_warps=4,
        kernel="kernels/ssd_chunked.py", kernel_sha="c36463e13ee1cfb9c431620d49b433e07afcd2234ef18fce602e40668edfb694",
    ),
    bwd=ScanBwd(
        impl="v6", block_p=0, block_q=32, num_warps=8, walk_warps=4,
        kernel="kernels/ssd_bwd.py", kernel_sha="e88663da1ac3ce3230707519dfa050e95b906cfd259c2473a0b7642c80c41e6a",
    ),
    conv=Conv(
        block_l=64, block_c=64, num_warps=4,
        kernel="kernels/conv.py", kernel_sha="59e200f1c7800dcc354f0aee5f8215ac0b0c3e827616a87ed349ffac4b524920",
    ),
    norm=Norm(
        num_warps=4,
        kernel="kernels/norm.py", kernel_sha="393c36c7528b2544b7701a69774c76800f4036cf319e0e463bf8b7173524d510",
    ),
    tuned=None,
)
# the name the runner reads for the module's default chunk (LAUNCH holds it)
CHUNK_SIZE = LAUNCH.chunked.chunk_size

# model dimensions and structure
D_MODEL = 96
HEIGHT = 8
WIDTH = 8
DIRECTIONS = "cross2d"
ORDERS = 4
D_INNER = 192
NHEADS = 6
HEADDIM = 32
D_STATE = 16
NGROUPS = 1
D_CONV = 3
D_IN_PROJ = 384
CONV_ACTIVATION = "silu"
DT_SOFTPLUS = True
DT_LIMIT = (0.0, float("inf"))
HAS_D = True
GATE_IN_SCAN = False
HAS_NORM = True
NORM_GATED = True
NORM_BEFORE_GATE = True
NORM_GROUP_SIZE = 192
NORM_EPS = 0.00001
KERNELS = ("conv", "conv2d", "conv2d_bwd", "conv_bwd", "cross_merge", "cross_scan", "dt", "norm", "norm_bwd", "ssd_bwd", "ssd_chunked", "ssd_fused")
