import { HubConnection, hubClientOptions } from '../client-options.js';
import { helpText, type Command } from '../command.js';
import { UsageError } from '../errors.js';
import type { Io } from '../io.js';
import { flag, option, parseOptions } from '../options.js';
import * as v from '../values.js';

export const cancelOptions = {
  reason: option(v.nonEmpty, { valueName: 'TEXT', description: 'why, told to the device and kept in the event log' }),
  json: flag({ description: 'print the command record as JSON' }),
  ...hubClientOptions,
};

const help = helpText({
  usage: 'flotilla cancel COMMAND_ID [--reason TEXT] [options]',
  description:
    'Asks the device to stop a running command (a job, or any command still waiting for its result). The record becomes cancelled when the device confirms; flotilla jobs shows it.',
  options: cancelOptions,
  notes: 'Example:\n  flotilla cancel 3f6c0b7e-… --reason "aisle blocked"',
});

async function run(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals, help: wantsHelp } = parseOptions(cancelOptions, argv, io.env, 1);
  if (wantsHelp) {
    io.stdout.write(help);
    return 0;
  }
  const id = positionals[0];
  if (id === undefined) throw new UsageError('missing COMMAND_ID (flotilla jobs lists them)');
  const record = await HubConnection.open(values, io).call((client) => client.cancelCommand(id, values.reason));
  io.stdout.write(
    values.json
      ? `${JSON.stringify(record, null, 2)}\n`
      : `Cancel sent to ${record.device} for ${record.capability}.${record.command} (${id}); flotilla jobs shows the outcome.\n`,
  );
  return 0;
}

export const cancelCommand: Command = { name: 'cancel', summary: 'Stop a running command or job', run };
