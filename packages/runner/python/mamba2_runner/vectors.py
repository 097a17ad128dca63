"""Hand-derived test vectors.

Every expected number below was worked out by hand (the arithmetic is in the
comments), not by running any code of this project, so the reference and the
kernels cannot share one misreading of the maths. Values are plain Python
lists; `as_tensors` turns one vector into float64 tensors.
"""
from __future__ import annotations

import math

import torch

LN2 = math.log(2.0)

# ---------------------------------------------------------------- SSD scan
# One batch, one head, headdim p = 1, d_state n = 1, one group, 3 steps.
# A = -ln 2, so a_t = exp(dt_t * A) = 2^(-dt_t):
#   dt = [1, 2, 1]  ->  a = [1/2, 1/4, 1/2]
#   x  = [1, 2, 3], B = [1, 1, 2], C = [1, 2, 1/2], D = 1/2
# S_t = a_t S_{t-1} + dt_t x_t B_t ;  y_t = S_t C_t + D x_t
#   t=0: S = 0.5*0    + 1*1*1 = 1      y = 1*1     + 0.5*1 = 1.5
#   t=1: S = 0.25*1   + 2*2*1 = 4.25   y = 4.25*2  + 0.5*2 = 9.5
#   t=2: S = 0.5*4.25 + 1*3*2 = 8.125  y = 8.125/2 + 0.5*3 = 5.5625
# final state 8.125.
SCAN_BASE = dict(
    x=[1.0, 2.0, 3.0], dt=[1.0, 2.0, 1.0], A=-LN2, B=[1.0, 1.0, 2.0], C=[1.0, 2.0, 0.5], D=0.5,
)
SCAN_VECTORS = [
    dict(name="1 head p1 n1, 3 steps", **SCAN_BASE, init=None, seq_idx=None,
         y=[1.5, 9.5, 5.5625], final=8.125),
    # Initial state S_{-1} = 2:
    #   t=0: S = 0.5*2    + 1 = 2     y = 2     + 0.5 = 2.5
    #   t=1: S = 0.25*2   + 4 = 4.5   y = 9     + 1   = 10
    #   t=2: S = 0.5*4.5  + 6 = 8.25  y = 4.125 + 1.5 = 5.625
    dict(name="initial state 2", **SCAN_BASE, init=2.0, seq_idx=None,
         y=[2.5, 10.0, 5.625], final=8.25),
    # seq_idx [0, 0, 1]: the state restarts from 0 at t=2:
    #   t=2: S = 0 + 1*3*2 = 6   y = 6/2 + 1.5 = 4.5
    dict(name="seq_idx resets at t=2", **SCAN_BASE, init=None, seq_idx=[0, 0, 1],
         y=[1.5, 9.5, 4.5], final=6.0),
]

# dt through softplus: softplus(ln(e^k - 1)) = ln(1 + e^k - 1) = k, so
# dt_raw 0 with dt_bias ln(e - 1) (k=1) gives dt 1, and a raw value of 25
# (> 20, past the threshold) passes through unchanged. With the scan above,
# feeding dt_raw = [0, ln(e^2-1) - ln(e-1), 0] and bias ln(e-1) gives dt =
# [1, 2, 1] and therefore the same y = [1.5, 9.5, 5.5625].
DT_VECTORS = [
    dict(name="softplus of inverse softplus is the identity",
         dt=[0.0, math.log(math.e ** 2 - 1) - math.log(math.e - 1), 25.0 - math.log(math.e - 1)],
         dt_bias=math.log(math.e - 1), softplus=True, limit=(0.0, None), out=[1.0, 2.0, 25.0]),
    # No softplus, clamp to [0.1, 0.5]: [-1, 0.3, 7] -> [0.1, 0.3, 0.5]
    dict(name="limit clamps without softplus",
         dt=[-1.0, 0.3, 7.0], dt_bias=None, softplus=False, limit=(0.1, 0.5), out=[0.1, 0.3, 0.5]),
    # bias then clamp: [-1+0.25, 0.3+0.25, 7+0.25] = [-0.75, 0.55, 7.25] -> lo 0, hi inf
    dict(name="bias then lower bound 0",
         dt=[-1.0, 0.3, 7.0], dt_bias=0.25, softplus=False, limit=(0.0, None), out=[0.0, 0.55, 7.25]),
]

# ------------------------------------------------------------ causal conv
# Width 2, two channels, 3 steps; out[t] = w[0] x[t-1] + w[1] x[t] + b.
#   channel 0: w = [1, 2], b = 0.5, x = [1, 2, 3]
#     t=0: 1*0 + 2*1 + 0.5 = 2.5 ; t=1: 1*1 + 2*2 + 0.5 = 5.5 ; t=2: 1*2 + 2*3 + 0.5 = 8.5
#   channel 1: w = [-1, 1], b = 0, x = [4, 1, 1]
#     t=0: 0 + 4 = 4 ; t=1: -4 + 1 = -3 ; t=2: -1 + 1 = 0
CONV_VECTORS = [
    dict(name="width 2, identity", x=[[1.0, 4.0], [2.0, 1.0], [3.0, 1.0]],
         weight=[[1.0, 2.0], [-1.0, 1.0]], bias=[0.5, 0.0], activation="identity",
         out=[[2.5, 4.0], [5.5, -3.0], [8.5, 0.0]]),
    # Width 3 on one channel, w = [1, 0, 0]: out[t] = x[t-2]; x = [5, 6, 7, 8] -> [0, 0, 5, 6].
    # SiLU(0) = 0 keeps the zeros; SiLU(5) = 5/(1+e^-5) = 4.966536, SiLU(6) = 6/(1+e^-6) = 5.985164.
    dict(name="width 3 shifts by two, silu", x=[[5.0], [6.0], [7.0], [8.0]],
         weight=[[1.0, 0.0, 0.0]], bias=None, activation="silu",
         out=[[0.0], [0.0], [4.966536], [5.985164]]),
]

# --------------------------------------------------------------- RMSNorm
# y = [3, 4]: mean square (9 + 16)/2 = 12.5, rms = sqrt(12.5) = 3.5355339
#   y / rms = [0.8485281, 1.1313708]; weight [1, 2] -> [0.8485281, 2.2627417]
# group_size 1: each channel is divided by its own |y|: [1, 1] * w = [1, 2]
# z = [0, ln 3]: sigmoid(ln 3) = 3/4, silu = 0.75 ln 3 = 0.8239592, silu(0) = 0
#   norm_before_gate False: y*silu(z) = [0, 3.2958369]; rms = 3.2958369/sqrt(2)
#     -> [0, sqrt(2)] = [0, 1.4142136] (weight 1)
#   norm_before_gate True: [0.8485281, 1.1313708] * [0, 0.8239592] = [0, 0.9322034]
# eps = 0 in all of these so the numbers are exact.
NORM_VECTORS = [
    dict(name="rmsnorm of [3, 4]", y=[3.0, 4.0], weight=[1.0, 2.0], z=None, eps=0.0,
         group_size=None, norm_before_gate=False, out=[0.8485281, 2.2627417]),
    dict(name="group size 1 gives the sign", y=[3.0, 4.0], weight=[1.0, 2.0], z=None, eps=0.0,
         group_size=1, norm_before_gate=False, out=[1.0, 2.0]),
    dict(name="gate before norm", y=[3.0, 4.0], weight=[1.0, 1.0], z=[0.0, math.log(3.0)], eps=0.0,
         group_size=None, norm_before_gate=False, out=[0.0, 1.4142136]),
    dict(name="norm before gate", y=[3.0, 4.0], weight=[1.0, 1.0], z=[0.0, math.log(3.0)], eps=0.0,
         group_size=None, norm_before_gate=True, out=[0.0, 0.9322034]),
]

# Hand numbers are written to 7 significant digits.
HAND_ATOL = 1e-6


def t64(v) -> torch.Tensor:
    return torch.tensor(v, dtype=torch.float64)


def scan_tensors(v: dict) -> dict:
    """The scan vector as mamba_chunk_scan_combined arguments (b=1, l=3, h=1, p=1, g=1, n=1)."""
    args = dict(
        x=t64(v["x"]).reshape(1, 3, 1, 1),
        dt=t64(v["dt"]).reshape(1, 3, 1),
        A=t64([v["A"]]),
        B=t64(v["B"]).reshape(1, 3, 1, 1),
        C=t64(v["C"]).reshape(1, 3, 1, 1),
        D=t64([v["D"]]),
    )
    if v["init"] is not None:
        args["initial_states"] = t64([v["init"]]).reshape(1, 1, 1, 1)
    if v["seq_idx"] is not None:
        args["seq_idx"] = torch.tensor([v["seq_idx"]], dtype=torch.int32)
    return args
