# generated from examples/mamba2-130m.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: ef1b2cd2430596bb1585ad29ffa31664da3751fe2ff6df5a5c1764461861285b
"""Codegen parameters and model dimensions of mamba2_130m.

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
TUNED = []

# model dimensions and structure
D_MODEL = 768
D_INNER = 1536
NHEADS = 24
HEADDIM = 64
D_STATE = 128
NGROUPS = 1
D_CONV = 4
CONV_DIM = 1792
D_IN_PROJ = 3352
CONV_ACTIVATION = "silu"
DT_SOFTPLUS = True
DT_LIMIT = (0.0, float("inf"))
HAS_D = True
D_PER_CHANNEL = False
GATE_IN_SCAN = False
HAS_NORM = True
NORM_GATED = True
NORM_BEFORE_GATE = False
NORM_GROUP_SIZE = 1536
NORM_EPS = 0.00001
LEARNABLE_INIT_STATES = False
KERNELS = ("conv", "conv_bwd", "dt", "norm", "norm_bwd", "ssd_bwd", "ssd_chunked", "ssd_fused")
