// A 4-config sweep of the seed block that runs on CPU under Triton's interpreter (tests, smoke runs).
import { defineSweep } from '../../packages/runner/src/sweep/define.ts';

export default defineSweep({
  model: 'examples/mamba2-simple.ts',
  shapes: [{ batch: 1, seqlen: 64 }],
  grid: { chunkSize: [16, 32], headdim: [32, 64], blockP: [32] },
  options: { dtype: 'float32', checkSeqlen: 64, checkHeads: 2, timeoutS: 300 },
});
