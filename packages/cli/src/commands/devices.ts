import type { Device, DeviceFilter } from '@flotilla/sdk';
import { HubConnection, hubClientOptions } from '../client-options.js';
import { helpText, type Command } from '../command.js';
import { UsageError } from '../errors.js';
import { renderDeviceTable } from '../format/device.js';
import { styleFor } from '../format/style.js';
import type { Io } from '../io.js';
import { flag, list, option, parseOptions } from '../options.js';
import * as v from '../values.js';

export const devicesOptions = {
  online: flag({ description: 'only devices that are online' }),
  offline: flag({ description: 'only devices that are offline' }),
  teleoperated: flag({ description: 'only devices someone is teleoperating now' }),
  type: option(v.nonEmpty, {
    valueName: 'TYPE',
    description: 'only devices of this type (lekiwi, xle, tonypi, mcu, ...)',
  }),
  label: list(v.nonEmpty, {
    valueName: 'SELECTOR',
    description: 'label selector such as site=lab, zone in (a,b) or !gpu; repeat it and every one must match',
  }),
  search: option(v.nonEmpty, {
    short: 'q',
    valueName: 'TEXT',
    description: 'text in the id, name, hostname, serial or model',
  }),
  limit: option((raw, source) => v.integer(raw, source, 1, 1000), {
    valueName: 'N',
    defaultText: '100',
    description: 'devices per request (1-1000)',
  }),
  all: flag({ description: 'follow every page instead of stopping after the first' }),
  json: flag({ description: 'print JSON (an array of devices) instead of a table' }),
  ...hubClientOptions,
};

const help = helpText({
  usage: 'flotilla devices [options]',
  description:
    'Lists the devices the hub knows, ordered by id: status, who teleoperates it (TELEOP: the operator, or yes when unknown), when each was last seen, address, agent and labels.',
  options: devicesOptions,
  notes:
    'Examples:\n  flotilla devices --online --label site=lab\n  flotilla devices --teleoperated\n  flotilla devices -q kiwi --json\n  flotilla devices --all --offline',
});

async function run(argv: readonly string[], io: Io): Promise<number> {
  const { values, help: wantsHelp } = parseOptions(devicesOptions, argv, io.env);
  if (wantsHelp) {
    io.stdout.write(help);
    return 0;
  }
  if (values.online && values.offline) throw new UsageError('--online and --offline exclude each other');
  const filter: DeviceFilter = {};
  if (values.online || values.offline) filter.online = values.online;
  if (values.teleoperated) filter.teleoperated = true;
  if (values.type !== undefined) filter.type = values.type;
  if (values.label.length) filter.label = values.label;
  if (values.search !== undefined) filter.q = values.search;
  if (values.limit !== undefined) filter.limit = values.limit;

  const hub = HubConnection.open(values, io);
  let devices: Device[] = [];
  let more = false;
  await hub.call(async (client) => {
    devices = [];
    if (values.all) for await (const d of client.iterateDevices(filter)) devices.push(d);
    else {
      const page = await client.listDevices(filter);
      devices = page.items;
      more = page.nextCursor !== null;
    }
  });

  if (values.json) io.stdout.write(`${JSON.stringify(devices, null, 2)}\n`);
  else if (devices.length === 0) io.stderr.write('No devices match.\n');
  else io.stdout.write(renderDeviceTable(devices, io.clock.now(), styleFor(io.stdout, io.env)));
  // On stderr, so that piping the table or the JSON somewhere keeps it clean.
  if (more) io.stderr.write(`Showing the first ${devices.length} devices; --all lists every one.\n`);
  return 0;
}

export const devicesCommand: Command = { name: 'devices', summary: 'List devices, with filters', run };
