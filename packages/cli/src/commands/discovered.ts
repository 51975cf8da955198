import { HubConnection, hubClientOptions } from '../client-options.js';
import { helpText, type Command } from '../command.js';
import { styleFor } from '../format/style.js';
import { renderTable } from '../format/table.js';
import { relativeTime } from '../format/time.js';
import type { Io } from '../io.js';
import { flag, parseOptions } from '../options.js';

export const discoveredOptions = {
  json: flag({ description: 'print the devices as JSON' }),
  ...hubClientOptions,
};

const help = helpText({
  usage: 'flotilla discovered [options]',
  description:
    'Lists devices the hub sees on its local network over mDNS (_flotilla-device._tcp) that it has not enrolled: run flotilla agent on them with an enrollment token to add them to the fleet.',
  options: discoveredOptions,
  notes: 'Examples:\n  flotilla discovered\n  flotilla discovered --json | jq ".[].id"',
});

async function run(argv: readonly string[], io: Io): Promise<number> {
  const { values, help: wantsHelp } = parseOptions(discoveredOptions, argv, io.env);
  if (wantsHelp) {
    io.stdout.write(help);
    return 0;
  }
  const answer = await HubConnection.open(values, io).call((client) => client.listDiscovered());
  if (values.json) {
    io.stdout.write(`${JSON.stringify(answer.items, null, 2)}\n`);
    return 0;
  }
  if (!answer.browsing) {
    io.stdout.write('The hub is not browsing mDNS (it runs with --mdns off, or mDNS is unavailable there).\n');
    return 0;
  }
  if (answer.items.length === 0) {
    io.stdout.write('No device waiting to be enrolled was seen on the network.\n');
    return 0;
  }
  const style = styleFor(io.stdout, io.env);
  const now = io.clock.now();
  io.stdout.write(
    renderTable(
      ['ID', 'TYPE', 'ENROLLMENT', 'ADDRESS', 'AGENT', 'SEEN'],
      answer.items.map((d) => [
        d.id,
        d.type ?? style.dim('-'),
        d.enrollment === 'unenrolled' ? style.yellow(d.enrollment) : `${d.enrollment} elsewhere`,
        d.addresses.join(', '),
        d.agentVersion,
        relativeTime(d.lastSeen, now),
      ]),
      style,
    ),
  );
  return 0;
}

export const discoveredCommand: Command = {
  name: 'discovered',
  summary: 'List devices on the network waiting to be enrolled (mDNS)',
  run,
};
