import { LiveClient, type EventFilter, type StoredEvent } from '@flotilla/sdk';
import { HubConnection, hubClientOptions } from '../client-options.js';
import { helpText, type Command } from '../command.js';
import { UsageError } from '../errors.js';
import { renderEventLine, renderEventTable } from '../format/event.js';
import { styleFor, type Style } from '../format/style.js';
import type { Io } from '../io.js';
import { flag, list, option, parseOptions, type OptionValues } from '../options.js';
import * as v from '../values.js';

export const eventsOptions = {
  device: option(v.nonEmpty, { valueName: 'ID', description: 'only events of this device' }),
  type: list(v.nonEmpty, {
    valueName: 'TYPE',
    description: 'only events of this type (DeviceConnected, ...); repeat it or separate types by commas',
  }),
  since: option(v.nonEmpty, {
    valueName: 'WHEN',
    description: 'only events since a duration ago (15m, 1h, 2d) or an ISO date',
  }),
  limit: option((raw, source) => v.integer(raw, source, 1, 1000), {
    valueName: 'N',
    default: 50,
    description: 'how many of the latest events to show (1-1000)',
  }),
  json: flag({ description: 'print JSON: an array, or one event per line with --follow' }),
  follow: flag({ short: 'f', description: 'keep running and print new events as they happen' }),
  ...hubClientOptions,
};

type Values = OptionValues<typeof eventsOptions>;

const help = helpText({
  usage: 'flotilla events [options]',
  description:
    'Shows the event log (registrations, connections, updates, decommissions, device reports), oldest first. With --follow, the latest events are followed by new ones as they happen, until Ctrl-C.',
  options: eventsOptions,
  notes:
    'Examples:\n  flotilla events --device robot-7 --since 1h\n  flotilla events --type DeviceConnected,DeviceDisconnected --follow\n  flotilla events --follow --json | jq .type',
});

function isStoredEvent(value: unknown): value is StoredEvent {
  const e = value as Partial<StoredEvent> | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.position === 'number' &&
    typeof e.type === 'string' &&
    typeof e.aggregateId === 'string'
  );
}

async function run(argv: readonly string[], io: Io): Promise<number> {
  const { values, help: wantsHelp } = parseOptions(eventsOptions, argv, io.env);
  if (wantsHelp) {
    io.stdout.write(help);
    return 0;
  }
  const types = values.type
    .flatMap((t) => t.split(','))
    .map((t) => t.trim())
    .filter(Boolean);
  const filter: EventFilter = { limit: values.limit, order: 'desc' };
  if (values.device !== undefined) filter.device = values.device;
  if (types.length) filter.type = types;
  if (values.since !== undefined) filter.since = v.since(values.since, '--since', io.clock.now());

  const hub = HubConnection.open(values, io);
  const style = styleFor(io.stdout, io.env);
  if (values.follow) return follow(hub, values, types, filter, io, style);

  const page = await hub.call((client) => client.listEvents(filter));
  const events = [...page.items].reverse();
  if (values.json) io.stdout.write(`${JSON.stringify(events, null, 2)}\n`);
  else if (events.length === 0) io.stderr.write('No events match.\n');
  else io.stdout.write(renderEventTable(events, io.clock.now(), style));
  if (page.nextCursor !== null) io.stderr.write(`Showing the latest ${events.length} events; --limit shows more.\n`);
  return 0;
}

/**
 * Prints the latest events, then every new one from `/ws/client`. Work is chained so that output
 * stays in log order: live events wait behind the history, and after a lost connection the
 * events missed meanwhile are fetched before the live ones that follow. Positions are unique
 * and increasing, which drops duplicates between the two sources.
 */
async function follow(
  hub: HubConnection,
  values: Values,
  types: string[],
  filter: EventFilter,
  io: Io,
  style: Style,
): Promise<number> {
  // Loaded only here: its schema compilation is not worth paying for one-shot commands.
  const { isDeviceId, validatePattern } = await import('@flotilla/protocol');
  if (values.device !== undefined && !isDeviceId(values.device))
    throw new UsageError(`--device ${JSON.stringify(values.device)} is not a device id`);
  const device = values.device ?? '*';
  const subjects = types.length ? types.map((t) => `flotilla.${device}.event.${t}`) : [`flotilla.${device}.event.>`];
  for (const s of subjects) {
    if (validatePattern(s) !== undefined)
      throw new UsageError(`--type ${JSON.stringify(s.split('.').pop())} is not an event type`);
  }

  let last = -1;
  // Where a catch-up after a lost connection starts when no event was printed yet.
  let lastTs = filter.since instanceof Date ? filter.since.getTime() : io.clock.now();
  const print = (e: StoredEvent): void => {
    if (e.position <= last) return;
    last = e.position;
    lastTs = e.ts;
    io.stdout.write(values.json ? `${JSON.stringify(e)}\n` : renderEventLine(e, style));
  };
  const warn = (text: string): void => io.stderr.write(`${style.yellow(text)}\n`);

  // Asked at every (re)connection: after a long outage the stored access token has expired and
  // the connection refreshes it. Asked once now too, so that a dead login fails the command at once.
  await hub.token();
  const live = new LiveClient({ url: hub.hub, clock: io.clock, token: () => hub.token() });
  // Live events queue up behind the history until it is printed.
  let historyPrinted = (): void => {};
  let chain = new Promise<void>((resolve) => (historyPrinted = resolve));
  const enqueue = (work: () => Promise<void> | void): void => {
    chain = chain.then(work).catch((err: unknown) => warn(`flotilla events: ${(err as Error).message}`));
  };
  live.subscribe(subjects, (m) => {
    if (isStoredEvent(m.data)) {
      const e = m.data;
      enqueue(() => print(e));
    }
  });

  try {
    const history = await hub.call((client) => client.listEvents(filter));
    [...history.items].reverse().forEach(print);
    historyPrinted();
  } catch (err) {
    live.close();
    throw err;
  }

  let lost = false;
  let tokenTrouble = false;
  live.on((e) => {
    if (e.type === 'disconnected') {
      if (!lost) {
        lost = true;
        warn(`lost the hub (${e.reason}); reconnecting…`);
      } else if (e.reason.startsWith('no token:') && !tokenTrouble) {
        // Said once: the retries go on, in case the user logs in again meanwhile.
        tokenTrouble = true;
        warn(`flotilla events: ${e.reason.slice('no token: '.length)}`);
      }
    } else if (e.type === 'open' && lost) {
      lost = false;
      tokenTrouble = false;
      warn('reconnected');
      enqueue(async () => {
        const missed: EventFilter = { order: 'asc' };
        if (filter.device !== undefined) missed.device = filter.device;
        if (filter.type !== undefined) missed.type = filter.type;
        missed.since = lastTs;
        await hub.call(async (client) => {
          for await (const ev of client.iterateEvents(missed)) print(ev);
        });
      });
    } else if (e.type === 'error') warn(`flotilla events: ${e.message}`);
  });

  await new Promise<void>((resolve) => {
    const dispose = io.onSignal(() => {
      dispose();
      resolve();
    });
  });
  live.close();
  await chain;
  return 0;
}

export const eventsCommand: Command = {
  name: 'events',
  summary: 'Show the event log; --follow streams new events',
  run,
};
