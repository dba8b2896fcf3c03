import { Command, CommanderError } from 'commander';
import { scanCommand } from './scan.js';
import { dbCommand } from './db.js';
import { expandBareStoreOption, storeCommand } from './store.js';
import { crawlCommand } from './crawl.js';
import { workerCommand } from './worker.js';
import { statusCommand } from './status.js';
import { queueCommand } from './queue.js';
import { rematchCommand } from './rematch.js';
import { reportCommand } from './report.js';
import { serveCommand } from './serve.js';
import { exportCommand } from './export.js';
import { toolVersion } from '../version.js';
import { EXIT } from './exit.js';

export function buildProgram(): Command {
  const program = new Command('detonate')
    .description('Container-image threat analyzer: inventory, vulnerabilities, threats and behaviour of container images')
    .version(toolVersion())
    .showHelpAfterError('(run detonate --help for usage)')
    .exitOverride();
  program.addCommand(scanCommand());
  program.addCommand(dbCommand());
  program.addCommand(storeCommand());
  program.addCommand(crawlCommand());
  program.addCommand(workerCommand());
  program.addCommand(statusCommand());
  program.addCommand(queueCommand());
  program.addCommand(rematchCommand());
  program.addCommand(reportCommand());
  program.addCommand(serveCommand());
  program.addCommand(exportCommand());
  const exitOverrideAll = (c: Command): void => {
    c.exitOverride();
    c.commands.forEach(exitOverrideAll);
  };
  exitOverrideAll(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(expandBareStoreOption(argv), { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit 0; every usage mistake is 2 (the contract), commander already printed why
      return err.exitCode === 0 ? EXIT.ok : EXIT.error;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`detonate: ${message}\n`);
    if (process.env.DETONATE_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return EXIT.error;
  }
}

