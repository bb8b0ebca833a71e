// `deadunits sweep status OUT`: the points of a sweep done, running (host, PID, step) and missing, per shard
// (src/cli/sweep/status.ts). Reads the folder only: it works from any machine that mounts it, while tasks run.
import { Command, Option } from 'commander';
import { MAX_SHARDS } from '../sweep/shard';
import { formatStatus, sweepStatus } from '../sweep/status';
import { numberIn } from './borndead';

export function statusCommand(): Command {
  return new Command('status')
    .description('List the points of a sweep done, running (with the host, PID and step) and missing, per shard.')
    .argument('<out>', 'the sweep folder')
    .addOption(
      new Option('--shards <n>', 'group by this many shards (default: the count that the results and the locks of running points name)').argParser(
        numberIn({ min: 1, max: MAX_SHARDS, int: true }),
      ),
    )
    .option('--all', 'list the finished points too (default: their count only)')
    .option('--json', 'print the status as JSON (one object: dir, points, shards, list)')
    .addHelpText(
      'after',
      `
running: the point's run folder is locked by a live process (its heartbeat is under a minute old).
missing: not started, or stopped part way (it resumes from its last checkpoint when its shard runs again), or
locked by a process that is gone (the next attempt takes the lock over).

Examples:
  $ deadunits sweep status /scratch/me/lr
  $ watch -n 30 deadunits sweep status /scratch/me/lr --shards 16`,
    )
    .action(async (out: string, flags: { shards?: number; all?: boolean; json?: boolean }) => {
      const status = await sweepStatus(out, flags.shards);
      process.stdout.write(flags.json ? JSON.stringify(status, null, 2) + '\n' : formatStatus(status, flags.all));
    });
}
