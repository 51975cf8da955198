import { HubConnection, hubClientOptions } from '../client-options.js';
import { helpText, type Command } from '../command.js';
import { UsageError } from '../errors.js';
import { renderDeviceBlock } from '../format/device.js';
import { styleFor } from '../format/style.js';
import type { Io } from '../io.js';
import { flag, parseOptions } from '../options.js';

export const deviceOptions = {
  json: flag({ description: 'print the device as JSON' }),
  ...hubClientOptions,
};

const help = helpText({
  usage: 'flotilla device ID [options]',
  description:
    'Shows everything the hub knows about one device: status, type, labels, hardware, network, software, capabilities, resources.',
  options: deviceOptions,
});

async function run(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals, help: wantsHelp } = parseOptions(deviceOptions, argv, io.env, 1);
  if (wantsHelp) {
    io.stdout.write(help);
    return 0;
  }
  const id = positionals[0];
  if (id === undefined) throw new UsageError('missing device ID');
  const device = await HubConnection.open(values, io).call((client) => client.getDevice(id));
  if (values.json) io.stdout.write(`${JSON.stringify(device, null, 2)}\n`);
  else io.stdout.write(renderDeviceBlock(device, io.clock.now(), styleFor(io.stdout, io.env)));
  return 0;
}

export const deviceCommand: Command = { name: 'device', summary: 'Show one device', run };
