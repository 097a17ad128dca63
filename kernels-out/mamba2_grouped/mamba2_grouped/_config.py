# generated from examples/mamba2-grouped.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: 24d8996fb3e0f39cb334b77301779adf993dd880abc460c22fbb1f7dd90e3736
"""Codegen parameters and model dimensions of mamba2_grouped.

The kernels read their defaults from here; `pnpm gen` flags change them.
TUNED holds dispatch entries from `pnpm gen --tuned` (empty otherwise).
"""

# codegen parameters
CHUNK_SIZE = 128
SCAN_IMPL = "fused"
SCAN_BLOCK_P = 0
SCAN_WARPS = 4
SCAN_STAGES = 2
CONV_BLOCK_L = 64
CONV_BLOCK_C = 64
CONV_WARPS = 4
NORM_WARPS = 4
TUNED = []

# model dimensions and structure
D_MODEL = 256
D_INNER = 512
NHEADS = 16
HEADDIM = 32
D_STATE = 64
NGROUPS = 4
D_CONV = 4
CONV_DIM = 1024
D_IN_PROJ = 1552
CONV_ACTIVATION = "silu"
DT_SOFTPLUS = True
DT_LIMIT = (0.0, float("inf"))
HAS_D = True
D_PER_CHANNEL = False
GATE_IN_SCAN = False
HAS_NORM = True
NORM_GATED = True
NORM_BEFORE_GATE = False
NORM_GROUP_SIZE = 512
NORM_EPS = 0.00001
LEARNABLE_INIT_STATES = False
KERNELS = ("conv", "conv_bwd", "dt", "norm", "norm_bwd", "ssd_bwd", "ssd_chunked", "ssd_fused")
