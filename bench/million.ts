// The 1,048,576-unit layer: one hidden layer of 2^20 ReLU units (input 64, output 10, batch 32, dropout 0.5),
// training steps per second with the observatory off and snapshotting every 100 / 10 steps.
// Quick mode uses 16,384 units so a smoke run stays in seconds on a CPU adapter.
import { measureMonitoring } from './monitoring';
import type { BenchTask, SuiteContext } from './task';
import { describeMlp, type MlpShape } from './train';

export const MILLION_MLP: MlpShape = { name: 'million', widths: [64, 1_048_576, 10], batch: 32, dropout: 0.5 };
export const QUICK_MILLION_MLP: MlpShape = { name: 'million-quick', widths: [16, 16_384, 10], batch: 8, dropout: 0.5 };

export function millionTasks(ctx: SuiteContext): BenchTask[] {
  const shape = ctx.quick ? QUICK_MILLION_MLP : MILLION_MLP;
  return [
    {
      group: 'million',
      label: `${shape.widths[1].toLocaleString('en-US')}-unit layer ${describeMlp(shape)}`,
      run: () => measureMonitoring(ctx, shape, 'million', 3),
    },
  ];
}
