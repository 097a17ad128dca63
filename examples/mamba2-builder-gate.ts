// Built node by node with the raw builder: y * silu(z) Gate instead of RMSNorm, conv without bias.
import { graph } from '@mamba2/dsl';

const dModel = 128;
const dInner = 2 * dModel; // expand 2
const headdim = 32;
const nheads = dInner / headdim;
const ngroups = 1;
const dState = 64;
const convDim = dInner + 2 * ngroups * dState;

export default graph()
  .input({ id: 'u', features: dModel })
  .linear({ id: 'in_proj', param: 'in_proj', outFeatures: dInner + convDim + nheads })
  .split({
    id: 'zxbcdt',
    parts: [
      { name: 'z', size: dInner },
      { name: 'xBC', size: convDim },
      { name: 'dt', size: nheads },
    ],
  })
  .causalConv1d({ id: 'conv', input: 'zxbcdt.xBC', width: 4, bias: false, activation: 'silu' })
  .split({
    id: 'xBC',
    parts: [
      { name: 'x', size: dInner },
      { name: 'B', size: ngroups * dState },
      { name: 'C', size: ngroups * dState },
    ],
  })
  .dtTransform({ id: 'dt', input: 'zxbcdt.dt', limit: [0, null] })
  .ssdScan({ id: 'scan', x: 'xBC.x', dt: 'dt', B: 'xBC.B', C: 'xBC.C', headdim, ngroups, dState, chunkSize: 64 })
  .dSkip({ id: 'dskip', x: 'xBC.x', headdim })
  .gate({ id: 'gate', z: 'zxbcdt.z' })
  .outProj({ id: 'out_proj', outFeatures: dModel })
  .output({ id: 'out' })
  .build({ config: { expand: 2, activation: 'swish' } });
