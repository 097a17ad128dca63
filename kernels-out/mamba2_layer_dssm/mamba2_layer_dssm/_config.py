# generated from examples/mamba2-layer-dssm.ts by @mamba2/codegen 0.1.0 -- do not edit
# ir-hash: b08c34b780e60fc6e49588f10b1a71f9d6e12c5f836021a2820d138a78a7d3b2
"""Codegen parameters and model dimensions of mamba2_layer_dssm.

The kernels read their defaults from here; `pnpm gen` flags change them.
TUNED holds dispatch entries from `pnpm gen --tuned` (empty otherwise).
"""

# codegen parameters
CHUNK_SIZE = 64
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
D_MODEL = 128
D_INNER = 128
NHEADS = 4
HEADDIM = 32
D_STATE = 32
NGROUPS = 2
D_CONV = 4
CONV_DIM = 256
D_IN_PROJ = 644
CONV_ACTIVATION = "silu"
DT_SOFTPLUS = True
DT_LIMIT = (0.0, float("inf"))
HAS_D = True
D_PER_CHANNEL = True
GATE_IN_SCAN = False
HAS_NORM = True
NORM_GATED = True
NORM_BEFORE_GATE = True
NORM_GROUP_SIZE = 64
NORM_EPS = 0.00001
LEARNABLE_INIT_STATES = False
KERNELS = ("conv", "conv_bwd", "dt", "norm", "norm_bwd", "ssd_bwd", "ssd_chunked", "ssd_fused")
