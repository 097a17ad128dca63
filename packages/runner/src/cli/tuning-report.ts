/**
 * `pnpm report:tuning <dir> [--tuned-bench FILE] [--title T]`: the tuning report of issue 13 from
 * <dir>/kernels.jsonl and <dir>/model.jsonl (python -m mamba2_runner.tuning; scripts/gpu/sweep13.sh):
 * <dir>/report.html, kernels.csv, model.csv, charts/*.svg (src/report/tuning.ts).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { writeTuningReport } from '../report/tuning.ts';

const program = new Command('report:tuning')
  .argument('<dir>', 'folder holding kernels.jsonl and/or model.jsonl')
  .option('--tuned-bench <file>', 'bench JSON of the tuned and default packages (default: <dir>/tuned-vs-default.json if present)')
  .option('--title <title>', 'page title', 'Tuning report')
  .action((dir: string, o: { tunedBench?: string; title: string }) => {
    if (!existsSync(dir)) {
      console.error(`error: ${dir}: no such folder. Pass the folder of a sweep's kernels.jsonl / model.jsonl (e.g. bench/sweeps/h200).`);
      process.exit(2);
    }
    const guess = readdirSync(dir).find((f) => f.endsWith('tuned-vs-default.json'));
    const files = writeTuningReport(dir, { title: o.title, tunedBench: o.tunedBench ?? (guess ? join(dir, guess) : undefined) });
    console.log(`${files.html}\n${files.csvs.join('\n')}\n${files.svgs.length} charts in ${join(dir, 'charts')}`);
  });
program.parse();
