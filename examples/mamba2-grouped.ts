// Grouped B/C: 4 groups share B and C across 16 heads of headdim 32, dState 64, chunk 128.
import { mamba2 } from '@mamba2/dsl';

export default mamba2({
  dModel: 256,
  ngroups: 4,
  headdim: 32,
  dState: 64,
  chunkSize: 128,
});
