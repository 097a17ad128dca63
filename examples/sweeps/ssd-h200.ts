// Tuning sweep of the fused SSD scan on one H200: chunk_size (the fused tile) x headdim x (block_p, warps), 96 configs.
// Run: pnpm bench --sweep examples/sweeps/ssd-h200.ts   (or see bench/sweeps/README.md for a GPU box without Node)
import { defineSweep } from '../../packages/runner/src/sweep/define.ts';

export default defineSweep({
  model: 'examples/sweeps/h200-block.ts',
  // d_inner 5120: headdim 32/64/128 -> 160/80/40 heads
  shapes: [
    { batch: 4, seqlen: 4096 },
    { batch: 1, seqlen: 16384 },
  ],
  grid: {
    chunkSize: [32, 64, 128],
    headdim: [32, 64, 128],
    blockP: [16, 32, 64], // values above headdim are skipped
    scanWarps: [4, 8],
    scanStages: [2],
  },
  options: { dtype: 'bfloat16', checkSeqlen: 1024, checkHeads: 4, warmupMs: 25, repMs: 100, timeoutS: 60 },
});
