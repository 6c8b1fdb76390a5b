import { Command, CommanderError } from 'commander';
import { registerBackupCommand } from './backup-command.ts';
import { EXIT } from './exit.ts';
import { failWith } from './fail.ts';
import { registerRestoreCommand } from './restore-command.ts';
import { registerVerifyCommand } from './verify-command.ts';
import { registerLsCommand } from './ls-command.ts';
import { registerGetCommand } from './get-command.ts';
import { registerStatusCommand } from './status-command.ts';
import { registerSetupCommand } from './setup-command.ts';
import { registerRunCommand } from './run-command.ts';
// Imported, not read at run time: the bundle (dist/cli.mjs) lives elsewhere than this file, and carries the version in.
import pkg from '../../../package.json' with { type: 'json' };

export { EXIT };

const buildProgram = (setCode: (code: number) => void): Command => {
  const program = new Command('cloudinary-backup')
    .description(
      'Back up a Cloudinary account (images, videos, raw files; upload, private and authenticated) to S3 or a local folder.\n' +
        'Credentials come from CLOUDINARY_URL=cloudinary://API_KEY:API_SECRET@CLOUD_NAME; S3 uses the standard AWS environment.',
    )
    .version(pkg.version)
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');

  registerBackupCommand(program, setCode);
  registerRestoreCommand(program, setCode);
  registerVerifyCommand(program, setCode);
  registerSetupCommand(program, setCode);
  registerRunCommand(program, setCode);
  registerStatusCommand(program, setCode);
  registerLsCommand(program, setCode);
  registerGetCommand(program, setCode);
  return program;
};

/** Runs the command line; resolves with the exit code. */
export const main = async (argv: string[]): Promise<number> => {
  let code: number = EXIT.ok;
  const program = buildProgram((c) => {
    code = c;
  });
  try {
    if (argv.length === 0) {
      program.outputHelp();
      return EXIT.usage;
    }
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? EXIT.ok : EXIT.usage;
    }
    return failWith(err, argv.includes('-v') || argv.includes('--verbose'));
  }
  return code;
};
