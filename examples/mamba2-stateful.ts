// Stateful variant: learnable initial states, clamped dt, D per channel, norm before gate in groups of 128.
import { mamba2 } from '@mamba2/dsl';

export default mamba2({
  dModel: 256,
  learnableInitStates: true,
  dtLimit: [0.001, 0.2],
  dPerChannel: true,
  normBeforeGate: true,
  normGroupSize: 128,
});
