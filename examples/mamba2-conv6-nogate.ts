// No gate: width-6 conv without activation, no z in in_proj, plain RMSNorm (no z) before out_proj.
import { mamba2 } from '@mamba2/dsl';

export default mamba2({
  dModel: 256,
  dConv: 6,
  activation: 'identity',
  gate: false,
  norm: true,
});
