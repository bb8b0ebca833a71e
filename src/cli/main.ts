// The `deadunits` command line (bin/deadunits.mjs loads this): one commander program, one module per command.
// Errors follow one contract (src/cli/errors.ts): one message naming the file or field and what to do; exit 2 for
// bad input, 1 for the environment; a stack trace only with DEBUG set.
import { Command, CommanderError } from 'commander';
import { borndeadCommand } from './commands/borndead';
import { exportCommand } from './commands/export';
import { inspectCommand } from './commands/inspect';
import { resumeCommand } from './commands/resume';
import { runCommand } from './commands/run';
import { sweepCommand } from './commands/sweep';
import { EXIT_INPUT, reportError } from './errors';
import { packageVersion } from './package-root';

/** Exit status for errors in what the user gave us (flags, files, configurations). */
export const USAGE_EXIT_CODE = EXIT_INPUT;

export function buildProgram(): Command {
  const program = new Command('deadunits')
    .description('Simulate dead, dropped and revived units in ReLU networks trained with dropout, on WebGPU (Dawn in Node).')
    .version(packageVersion())
    .showHelpAfterError('(add --help for usage)')
    // Options after a command's name are that command's: `sweep` and its sub-commands share option names.
    .enablePositionalOptions()
    .addHelpText(
      'after',
      `
Examples:
  $ deadunits borndead --width 3 --depth 16 --trials 2000
  $ deadunits sweep sweep.json --out sweeps/lr --shard 1/4
  $ deadunits sweep collect sweeps/lr
  $ deadunits inspect runs/a/checkpoints/checkpoint-0000001000.safetensors

Set DEADUNITS_DAWN (e.g. "backend=vulkan,adapter=SwiftShader") to pick the WebGPU adapter.`,
    );
  program.addCommand(runCommand());
  program.addCommand(resumeCommand());
  program.addCommand(sweepCommand());
  program.addCommand(borndeadCommand());
  program.addCommand(inspectCommand());
  program.addCommand(exportCommand());
  // Every command (and sub-command) reports usage errors through the same path.
  const configure = (c: Command) => {
    c.exitOverride().configureOutput({ outputError: (text, write) => write(text) });
    c.commands.forEach(configure);
  };
  configure(program);
  return program;
}

/** Runs the program on argv and returns the exit status (the caller exits: Dawn can keep Node alive). */
export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    // A command may end with a status of its own (sweep collect with missing points, an interrupted sweep).
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version "fail" with exit code 0; commander has already printed the message.
      return error.exitCode === 0 ? 0 : USAGE_EXIT_CODE;
    }
    return reportError(error);
  }
}

// A reader of our output that went away (a closed pipe, a dead launcher) must not crash a run before its checkpoint.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
process.exitCode = await main(process.argv);
// NOTE: a Dawn instance can keep the event loop alive after its devices are destroyed: exit explicitly once
// stdout and stderr have drained.
process.stdout.write('', () => process.stderr.write('', () => process.exit()));
