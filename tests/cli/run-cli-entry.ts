// A child-process entry for the CLI tests: `run` and `resume` in a commander program of their own, so the tests
// do not depend on the full program (src/cli/main.ts) and can send real signals to a real process.
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../../src/config';
import { resumeCommand } from '../../src/cli/commands/resume';
import { runCommand } from '../../src/cli/commands/run';

const program = new Command('deadunits').exitOverride().addCommand(runCommand()).addCommand(resumeCommand());
program.commands.forEach((c) => c.exitOverride());
try {
  await program.parseAsync(process.argv);
  process.exitCode = 0;
} catch (error) {
  if (error instanceof CommanderError) process.exitCode = error.exitCode === 0 ? 0 : 2;
  else if (error instanceof ConfigError) {
    console.error(`error: ${error.message}`);
    process.exitCode = 2;
  } else {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  }
}
process.stdout.write('', () => process.stderr.write('', () => process.exit()));
