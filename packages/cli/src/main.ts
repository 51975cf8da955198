import type { Command } from './command.js';
import { agentCommand } from './commands/agent.js';
import { deviceCommand } from './commands/device.js';
import { devicesCommand } from './commands/devices.js';
import { discoveredCommand } from './commands/discovered.js';
import { eventsCommand } from './commands/events.js';
import { logsCommand } from './commands/logs.js';
import { hubCommand } from './commands/hub.js';
import { loginCommand } from './commands/login.js';
import { logoutCommand } from './commands/logout.js';
import { provisionCommand } from './commands/provision.js';
import { sendCommand } from './commands/send.js';
import { telemetryCommand } from './commands/telemetry.js';
import { jobsCommand } from './commands/jobs.js';
import { cancelCommand } from './commands/cancel.js';
import { reportCommand } from './commands/report.js';
import { reportsCommand } from './commands/reports.js';
import { alertsCommand } from './commands/alerts.js';
import { alertRulesCommand } from './commands/alert-rules.js';
import { simCommand } from './commands/sim.js';
import { CliError, ExitCodes, UsageError } from './errors.js';
import type { Io } from './io.js';
import { CLI_VERSION } from './version.js';

/** Every command, in the order `flotilla --help` lists them. */
export const commands: readonly Command[] = [
  hubCommand,
  agentCommand,
  simCommand,
  devicesCommand,
  deviceCommand,
  discoveredCommand,
  eventsCommand,
  logsCommand,
  telemetryCommand,
  sendCommand,
  jobsCommand,
  cancelCommand,
  reportCommand,
  reportsCommand,
  alertsCommand,
  alertRulesCommand,
  loginCommand,
  logoutCommand,
  provisionCommand,
];

/** Options that may come before the command name; they are handed to the command. */
const GLOBAL_VALUE_OPTIONS = ['--hub', '--token'];

export function topHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 3;
  return [
    'Usage: flotilla <command> [options]',
    '',
    'Flotilla runs fleets of robots and edge devices: a hub, agents on the devices,',
    'and tools to look at them.',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Options:',
    '  --hub URL      hub to talk to (env FLOTILLA_HUB; default: the hub of the',
    '                 latest flotilla login, else http://localhost:8080)',
    '  --token TOKEN  API token (env FLOTILLA_TOKEN; default: the stored login)',
    '  -h, --help     show help; "flotilla <command> --help" for a command',
    '  -V, --version  print the version',
    '',
  ].join('\n');
}

/**
 * Splits `[global options] <command> [args]`. Global value options before the command are moved
 * after it, so `flotilla --hub URL devices` and `flotilla devices --hub URL` mean the same.
 */
function split(argv: readonly string[]): { command: string | undefined; args: string[]; flags: string[] } {
  const flags: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i] as string;
    if (!arg.startsWith('-')) break;
    const name = arg.split('=')[0] as string;
    if (GLOBAL_VALUE_OPTIONS.includes(name)) {
      flags.push(arg);
      if (!arg.includes('=')) {
        if (i + 1 >= argv.length) throw new UsageError(`${name} needs a value`);
        flags.push(argv[i + 1] as string);
        i++;
      }
    } else if (['-h', '--help', '-V', '--version'].includes(arg)) {
      flags.push(arg);
    } else throw new UsageError(`unknown option ${name}`);
    i++;
  }
  return { command: argv[i], args: argv.slice(i + 1), flags };
}

/**
 * Runs `flotilla` with `argv` (without node and the script) and returns the exit code. Failures
 * are printed as one line on stderr, `flotilla <cmd>: <reason>`; usage errors add a pointer to
 * the command's help and exit 2.
 */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  let name = 'flotilla';
  try {
    const { command, args, flags } = split(argv);
    if (flags.includes('-V') || flags.includes('--version')) {
      io.stdout.write(`flotilla ${CLI_VERSION}\n`);
      return ExitCodes.OK;
    }
    if (command === undefined) {
      io.stdout.write(topHelp());
      return ExitCodes.OK;
    }
    if (command === 'help') {
      const target = args[0];
      if (target === undefined) {
        io.stdout.write(topHelp());
        return ExitCodes.OK;
      }
      return await main([target, '--help'], io);
    }
    const cmd = commands.find((c) => c.name === command);
    if (!cmd) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    name = `flotilla ${cmd.name}`;
    const help = flags.includes('-h') || flags.includes('--help') ? ['--help'] : [];
    return await cmd.run([...args, ...flags.filter((f) => f !== '-h' && f !== '--help'), ...help], io);
  } catch (err) {
    if (err instanceof CliError) {
      const pointer = err instanceof UsageError ? ` (see ${name} --help)` : '';
      io.stderr.write(`${name}: ${err.message}${pointer}\n`);
      return err.exitCode;
    }
    throw err;
  }
}
