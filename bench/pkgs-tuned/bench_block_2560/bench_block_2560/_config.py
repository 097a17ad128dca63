# generated from bench/models/block-2560.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 892092f85b63594f4f58ed4fc88f35228e3997ca8e539589095ed0ed3b90773f
"""Codegen parameters and model dimensions of bench_block_2560.

The kernels read their defaults from here; `pnpm gen` flags change them.
TUNED holds dispatch entries from `pnpm gen --tuned` (empty otherwise).
"""

# codegen parameters
CHUNK_SIZE = 256
SCAN_IMPL = "fused"
SCAN_BLOCK_P = 0
SCAN_WARPS = 4
SCAN_STAGES = 2
CONV_BLOCK_L = 64
CONV_BLOCK_C = 64
CONV_WARPS = 4
NORM_WARPS = 4
TUNED = [
    {"block_p": 64, "chunk_size": 32, "max_seqlen": 4096, "nheads": 80, "num_stages": 2, "num_warps": 4},
    {"block_p": 32, "chunk_size": 32, "max_seqlen": 16384, "nheads": 80, "num_stages": 2, "num_warps": 4},
]

# model dimensions and structure
D_MODEL = 2560
D_INNER = 5120
NHEADS = 80
HEADDIM = 64
D_STATE = 128
NGROUPS = 1
D_CONV = 4
CONV_DIM = 5376
D_IN_PROJ = 10576
CONV_ACTIVATION = "silu"
DT_SOFTPLUS = True
DT_LIMIT = (0.0, float("inf"))
HAS_D = True
D_PER_CHANNEL = False
GATE_IN_SCAN = False
HAS_NORM = True
NORM_GATED = True
NORM_BEFORE_GATE = False
NORM_GROUP_SIZE = 5120
NORM_EPS = 0.00001
LEARNABLE_INIT_STATES = False
KERNELS = ("conv", "conv_bwd", "dt", "norm", "norm_bwd", "ssd_bwd", "ssd_chunked", "ssd_fused")
