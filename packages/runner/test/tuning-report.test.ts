import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { answers, axisCells, modelRows, readJsonl, toCsv } from '../src/report/tuning-data.ts';
import { writeTuningReport } from '../src/report/tuning.ts';
import { fakeKernelRecords, fakeModelRecords, writeFakeTuning } from './tuning.fixtures.ts';

describe('tuning report', () => {
  it('answers per d_model which headdim / d_state / Q trained fastest, with the incumbent beside it', () => {
    const a = answers(modelRows(fakeModelRecords()));
    expect(a.map((x) => x.d_model)).toEqual([768, 1536]);
    // the fixture's fastest: headdim 64, d_state 64, Q 64 (2 - 0.1 ms at 768)
    expect(a[0]!.text).toMatch(/^for d_model 768 at 8×2048, headdim 64 \/ d_state 64 \(Q 64\) trains fastest: 1\.90 ms .*mamba_ssm .*2\.60 ms \(1\.37x\)/);
  });

  it('puts the best time over the other knobs in each cell of the axes picked, a failed cell as null', () => {
    const fwd = fakeKernelRecords().filter((r) => r.problem === 'fwd-B8-L2048-H48-P64-N128');
    const cells = axisCells(fwd, 'num_warps', 'num_stages');
    expect(cells).toHaveLength(4);
    const best = Math.min(...fwd.filter((r) => r.params.num_warps === 4 && r.params.num_stages === 2 && r.ms !== null).map((r) => r.ms as number));
    expect(cells.find((c) => c.x === '4' && c.y === '2')?.ms).toBe(best);
  });

  it('writes one CSV line per record with every knob its own column, and skips a torn last line', () => {
    const dir = writeFakeTuning(mkdtempSync(join(tmpdir(), 'tuning-')));
    expect(readJsonl(join(dir, 'model.jsonl'))).toHaveLength(fakeModelRecords().length);
    const csv = toCsv(fakeKernelRecords()).trim().split('\n');
    expect(csv).toHaveLength(fakeKernelRecords().length + 1);
    const head = csv[0]!.split(',');
    const row = csv.find((l) => l.startsWith('fwd:bq64-bp32-w4-s2@'))!.split(',');
    expect(row[head.indexOf('block_q')]).toBe('64');
    expect(row[head.indexOf('gpu_model')]).toBe('NVIDIA H200');
    const files = writeTuningReport(dir);
    expect(readFileSync(files.csvs[1]!, 'utf8').trim().split('\n')).toHaveLength(fakeModelRecords().length + 1);
    const html = readFileSync(files.html, 'utf8');
    expect(html).not.toMatch(/<script/);
    expect(html).toContain('href="data:text/csv;charset=utf-8,');
  });
});
