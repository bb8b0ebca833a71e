// `deadunits resume DIR`: continue a run from its latest checkpoint with the options it was started with (the
// flags given here override them). The continued run ends bit-identical to one that was never interrupted.
import { Command } from 'commander';
import { ConfigError } from '../../config';
import { resumeJob, type RunJobOptions } from '../run-job';
import type { ProgressMode } from '../progress';
import type { UnitMapKind } from '../run-dir';
import { runOptions, runWithSignals } from './run';
import { integerFlag } from './run-options';

interface ResumeFlags {
  checkpointEvery?: string;
  keep?: string;
  csv?: boolean;
  unitMaps?: UnitMapKind;
  progress: ProgressMode;
  kernels?: string;
}

export function resumeCommand(): Command {
  const command = new Command('resume')
    .description('Continue a run folder from its latest checkpoint; the result is bit-identical to an uninterrupted run.')
    .argument('<dir>', 'the run folder (written by `deadunits run`)');
  runOptions(command)
    .addHelpText('after', '\nOptions not given keep the values the run was started with (run.json).\n\nExample:\n  $ deadunits resume runs/lr --progress lines')
    .action(async (dir: string, flags: ResumeFlags) => {
      const overrides: Partial<Omit<RunJobOptions, 'config' | 'outDir'>> = {
        progress: flags.progress,
        unitMaps: flags.unitMaps,
        csv: flags.csv,
        kernels: flags.kernels,
      };
      if (flags.checkpointEvery !== undefined) overrides.checkpointEvery = integerFlag('--checkpoint-every', flags.checkpointEvery);
      if (flags.keep !== undefined) {
        overrides.keepCheckpoints = integerFlag('--keep', flags.keep);
        if (overrides.keepCheckpoints < 1)
          throw new ConfigError([{ path: '--keep', message: `${overrides.keepCheckpoints} is not in [1, ...): at least one checkpoint must be kept` }]);
      }
      await runWithSignals(command, (signal, log) => resumeJob(dir, { ...overrides, signal, log }));
    });
  return command;
}
