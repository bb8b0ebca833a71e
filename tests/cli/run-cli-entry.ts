// A child-process entry for the CLI tests: `run` and `resume` in a commander program of their own, so the tests
// do not depend on the full program (src/cli/main.ts) and can send real signals to a real process. Errors are
// reported as the real program reports them (src/cli/errors.ts).
import { Command, CommanderError } from 'commander';
import { reportError } from '../../src/cli/errors';
import { resumeCommand } from '../../src/cli/commands/resume';
import { runCommand } from '../../src/cli/commands/run';

const program = new Command('deadunits').exitOverride().addCommand(runCommand()).addCommand(resumeCommand());
program.commands.forEach((c) => c.exitOverride());
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
try {
  await program.parseAsync(process.argv);
  process.exitCode = 0;
} catch (error) {
  if (error instanceof CommanderError) process.exitCode = error.exitCode === 0 ? 0 : 2;
  else process.exitCode = reportError(error);
}
process.stdout.write('', () => process.stderr.write('', () => process.exit()));
