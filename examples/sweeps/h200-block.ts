// The d_model 2560 block (d_inner 5120: 80 heads at headdim 64) of BENCH_TARGETS.md's (4, 4096) rows, for sweeps.
import { mamba2 } from '@mamba2/dsl';

export default mamba2({ dModel: 2560, name: 'sweep_h200' });
