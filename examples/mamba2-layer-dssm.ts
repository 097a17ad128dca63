// mamba_ssm's Mamba2 with d_ssm < d_inner (a gated MLP on the other channels), 2 groups, D per channel, norm before gate.
import { mamba2Layer } from '@mamba2/dsl';

export default mamba2Layer({
  dModel: 128,
  dSsm: 128,
  headdim: 32,
  dState: 32,
  ngroups: 2,
  DHasHdim: true,
  normBeforeGate: true,
  chunkSize: 64,
});
