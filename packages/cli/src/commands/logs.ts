import { LiveClient, type LogFilter, type LogLine } from '@flotilla/sdk';
import { HubConnection, hubClientOptions } from '../client-options.js';
import { helpText, type Command } from '../command.js';
import { UsageError } from '../errors.js';
import { renderLogLine } from '../format/log.js';
import { styleFor, type Style } from '../format/style.js';
import type { Io } from '../io.js';
import { flag, option, parseOptions, type OptionValues } from '../options.js';
import * as v from '../values.js';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
const RANK: Record<LogLine['level'], number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4, fatal: 5 };

export const logsOptions = {
  level: option((raw, source) => v.choice(raw, source, LEVELS), {
    valueName: 'LEVEL',
    description: `only lines at this level or above: ${LEVELS.join(', ')}`,
  }),
  grep: option(v.nonEmpty, { valueName: 'TEXT', description: 'only lines whose message contains TEXT (any case)' }),
  since: option(v.nonEmpty, {
    valueName: 'WHEN',
    description: 'only lines since a duration ago (15m, 1h, 2d) or an ISO date',
  }),
  selector: option(v.nonEmpty, {
    valueName: 'SELECTOR',
    description: 'without ID: only devices whose labels match (site=lab, zone in (a,b))',
  }),
  limit: option((raw, source) => v.integer(raw, source, 1, 1000), {
    valueName: 'N',
    default: 100,
    description: 'how many of the latest lines to show (1-1000)',
  }),
  json: flag({ description: 'print JSON: an array, or one line object per line with --follow' }),
  follow: flag({ short: 'f', description: 'keep running and print new lines as they arrive, until Ctrl-C' }),
  ...hubClientOptions,
};

type Values = OptionValues<typeof logsOptions>;

const help = helpText({
  usage: 'flotilla logs [ID] [options]',
  description:
    "Shows the log lines devices shipped to the hub, oldest first: one device's (ID), or the fleet's (optionally those matching --selector). With --follow, the latest lines are followed by new ones as they arrive, until Ctrl-C.",
  options: logsOptions,
  notes:
    'Examples:\n  flotilla logs lekiwi-0001 --level warn --since 1h\n  flotilla logs lekiwi-0001 --grep battery --follow\n  flotilla logs --selector site=lab --level error --json',
});

async function run(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals, help: wantsHelp } = parseOptions(logsOptions, argv, io.env, 1);
  if (wantsHelp) {
    io.stdout.write(help);
    return 0;
  }
  const [id] = positionals;
  if (id !== undefined && values.selector !== undefined)
    throw new UsageError('--selector is for the fleet: give a device ID or a selector, not both');
  const filter: LogFilter = { limit: values.limit, order: 'desc' };
  if (values.level !== undefined) filter.level = values.level;
  if (values.grep !== undefined) filter.text = values.grep;
  if (values.since !== undefined) filter.since = v.since(values.since, '--since', io.clock.now());
  if (values.selector !== undefined) filter.selector = values.selector;

  const hub = HubConnection.open(values, io);
  const style = styleFor(io.stdout, io.env);
  const read = (f: LogFilter) =>
    hub.call((client) => (id === undefined ? client.listLogs(f) : client.deviceLogs(id, f)));
  if (values.follow) return follow(hub, values, id, filter, read, io, style);

  const page = await read(filter);
  const lines = [...page.items].reverse();
  if (values.json) io.stdout.write(`${JSON.stringify(lines, null, 2)}\n`);
  else if (lines.length === 0) io.stderr.write('No log lines match.\n');
  else for (const line of lines) io.stdout.write(renderLogLine(line, style, id === undefined));
  if (page.nextCursor !== null) io.stderr.write(`Showing the latest ${lines.length} lines; --limit shows more.\n`);
  return 0;
}

function isLogLine(value: unknown): value is LogLine {
  const l = value as Partial<LogLine> | null;
  return (
    typeof l === 'object' &&
    l !== null &&
    typeof l.id === 'number' &&
    typeof l.device === 'string' &&
    typeof l.message === 'string' &&
    typeof l.level === 'string' &&
    l.level in RANK
  );
}

/**
 * Prints the latest lines, then every new one from `/ws/client` (`flotilla.<id>.log`). Live lines
 * wait behind the history; after a lost connection the lines missed meanwhile are fetched before
 * the live ones that follow. Ids are the hub's storage order, which drops duplicates between the
 * two sources.
 */
async function follow(
  hub: HubConnection,
  values: Values,
  id: string | undefined,
  filter: LogFilter,
  read: (f: LogFilter) => Promise<{ items: LogLine[] }>,
  io: Io,
  style: Style,
): Promise<number> {
  const { isDeviceId } = await import('@flotilla/protocol');
  if (id !== undefined && !isDeviceId(id)) throw new UsageError(`${JSON.stringify(id)} is not a device id`);
  // The live subject carries every line: the filters the hub applies to listings apply here.
  let devices: Set<string> | undefined;
  if (values.selector !== undefined) {
    const selected = new Set<string>();
    await hub.call(async (client) => {
      for await (const d of client.iterateDevices({ label: values.selector as string })) selected.add(d.id);
    });
    devices = selected;
  }
  const needle = values.grep?.toLowerCase();
  const wanted = (line: LogLine): boolean =>
    (devices === undefined || devices.has(line.device)) &&
    (values.level === undefined || RANK[line.level] >= RANK[values.level]) &&
    (needle === undefined || line.message.toLowerCase().includes(needle));

  let last = -1;
  let lastTs = filter.since instanceof Date ? filter.since.getTime() : io.clock.now();
  const print = (line: LogLine): void => {
    if (line.id <= last) return;
    last = line.id;
    lastTs = line.ts;
    io.stdout.write(values.json ? `${JSON.stringify(line)}\n` : renderLogLine(line, style, id === undefined));
  };
  const warn = (text: string): void => io.stderr.write(`${style.yellow(text)}\n`);

  await hub.token();
  const live = new LiveClient({ url: hub.hub, clock: io.clock, token: () => hub.token() });
  let historyPrinted = (): void => {};
  let chain = new Promise<void>((resolve) => (historyPrinted = resolve));
  const enqueue = (work: () => Promise<void> | void): void => {
    chain = chain.then(work).catch((err: unknown) => warn(`flotilla logs: ${(err as Error).message}`));
  };
  live.subscribe([`flotilla.${id ?? '*'}.log`], (m) => {
    const line = m.data;
    if (isLogLine(line) && wanted(line)) enqueue(() => print(line));
  });

  try {
    const history = await read(filter);
    [...history.items].reverse().forEach(print);
    historyPrinted();
  } catch (err) {
    live.close();
    throw err;
  }

  let lost = false;
  live.on((e) => {
    if (e.type === 'disconnected') {
      if (!lost) {
        lost = true;
        warn(`lost the hub (${e.reason}); reconnecting…`);
      }
    } else if (e.type === 'open' && lost) {
      lost = false;
      warn('reconnected');
      enqueue(async () => {
        const { limit: _limit, cursor: _cursor, ...rest } = filter;
        const missed: LogFilter = { ...rest, order: 'asc', since: lastTs, limit: 1000 };
        for (const line of (await read(missed)).items) print(line);
      });
    } else if (e.type === 'error') warn(`flotilla logs: ${e.message}`);
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

export const logsCommand: Command = {
  name: 'logs',
  summary: 'Show device logs; --follow streams new lines',
  run,
};
