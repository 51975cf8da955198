import type { BroadcastItem, CommandRecord, CommandRequest } from '@flotilla/sdk';
import { HubConnection, hubClientOptions } from '../client-options.js';
import { helpText, type Command } from '../command.js';
import { CliError, CliErrorCodes, ExitCodes, UsageError } from '../errors.js';
import { styleFor, type Style } from '../format/style.js';
import { renderTable, truncate } from '../format/table.js';
import type { Io } from '../io.js';
import { flag, option, parseOptions } from '../options.js';
import * as v from '../values.js';

export const sendOptions = {
  args: option(v.nonEmpty, {
    valueName: 'JSON',
    description: 'the command\'s arguments as a JSON object, e.g. \'{"left":0.2,"right":0.2}\'',
  }),
  selector: option(v.nonEmpty, {
    valueName: 'SELECTOR',
    description: 'send to every device whose labels match (type=lekiwi,site=lab) instead of one device',
  }),
  timeout: option((raw, source) => v.duration(raw, source, 1, 3_600_000), {
    valueName: 'DURATION',
    description: 'how long the device has to answer (ms, or 5s, 1m; default 30s)',
  }),
  async: flag({ description: 'return once the command is on its way, with its id, instead of waiting' }),
  json: flag({ description: 'print the command record(s) as JSON' }),
  ...hubClientOptions,
};

const help = helpText({
  usage:
    'flotilla send ID CAPABILITY.COMMAND [--args JSON] [options]\n       flotilla send --selector SELECTOR CAPABILITY.COMMAND [--args JSON] [options]',
  description:
    'Sends a command to a device (or to every device matching a label selector) and prints its result. The hub checks the command against the HAL capability the device declared before sending it (docs/hal.md). Exits 0 when every command succeeded, 1 otherwise.',
  options: sendOptions,
  notes:
    'Examples:\n  flotilla send lekiwi-0001 hal.v1.motor.differential.drive --args \'{"left":0.2,"right":0.2}\'\n  flotilla send --selector site=lab hal.v1.estop.engage\n  flotilla send lekiwi-0001 hal.v1.estop.engage --async --json',
});

/** `hal.v1.motor.differential.drive` → capability `hal.v1.motor.differential`, command `drive`. */
export function splitTarget(text: string): { capability: string; command: string } {
  const dot = text.lastIndexOf('.');
  if (dot <= 0 || dot === text.length - 1) {
    throw new UsageError(`${JSON.stringify(text)} is not CAPABILITY.COMMAND (e.g. hal.v1.estop.engage)`);
  }
  return { capability: text.slice(0, dot), command: text.slice(dot + 1) };
}

function parseArgs(raw: string | undefined): Record<string, unknown> {
  if (raw === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw new UsageError(`--args is not JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError('--args must be a JSON object, e.g. \'{"on":true}\'');
  }
  return value as Record<string, unknown>;
}

function outcome(record: CommandRecord, style: Style): string {
  const took = record.completedAt !== null ? ` in ${record.completedAt - record.issuedAt} ms` : '';
  switch (record.status) {
    case 'succeeded':
      return `${style.green('succeeded')}${took}${record.result === undefined ? '' : `: ${JSON.stringify(record.result)}`}`;
    case 'failed':
    case 'timed_out':
      return `${style.red(record.status)}${took}${record.error ? `: ${record.error.code}: ${record.error.message}` : ''}`;
    default:
      return `${style.yellow(record.status)} (command ${record.id})`;
  }
}

async function run(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals, help: wantsHelp } = parseOptions(sendOptions, argv, io.env, 2);
  if (wantsHelp) {
    io.stdout.write(help);
    return 0;
  }
  const broadcast = values.selector !== undefined;
  const expected = broadcast ? 1 : 2;
  if (positionals.length !== expected) {
    throw new UsageError(
      broadcast
        ? 'with --selector, give only CAPABILITY.COMMAND'
        : positionals.length === 0
          ? 'missing device ID and CAPABILITY.COMMAND'
          : 'missing CAPABILITY.COMMAND',
    );
  }
  const target = positionals[expected - 1] as string;
  const request: CommandRequest = { ...splitTarget(target), args: parseArgs(values.args) };
  if (values.timeout !== undefined) request.timeoutMs = values.timeout;
  const options = { async: values.async };
  const style = styleFor(io.stdout, io.env);
  const connection = HubConnection.open(values, io);

  if (!broadcast) {
    const id = positionals[0] as string;
    const record = await connection.call((client) => client.sendCommand(id, request, options));
    io.stdout.write(values.json ? `${JSON.stringify(record, null, 2)}\n` : `${id}: ${outcome(record, style)}\n`);
    return record.status === 'succeeded' || (values.async && record.status === 'delivered') ? 0 : ExitCodes.FAILURE;
  }

  const items: BroadcastItem[] = await connection.call((client) =>
    client.broadcastCommand(values.selector as string, request, options),
  );
  if (items.length === 0) {
    throw new CliError(CliErrorCodes.FAILED, `no device matches ${values.selector}`, ExitCodes.FAILURE);
  }
  if (values.json) io.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
  else {
    const rows = items.map((i) => [
      i.device,
      i.command
        ? outcome(i.command, style)
        : style.red(`refused: ${i.error?.code ?? 'error'}: ${truncate(i.error?.message ?? '', 100)}`),
    ]);
    io.stdout.write(renderTable(['DEVICE', 'OUTCOME'], rows, style));
  }
  const ok = items.every(
    (i) => i.command && (i.command.status === 'succeeded' || (values.async && i.command.status === 'delivered')),
  );
  return ok ? 0 : ExitCodes.FAILURE;
}

export const sendCommand: Command = { name: 'send', summary: 'Send a command to a device or a selection', run };
