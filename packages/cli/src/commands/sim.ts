import { join } from 'node:path';
import { helpText, type Command } from '../command.js';
import { CliError, CliErrorCodes, ExitCodes, UsageError } from '../errors.js';
import { hubUrlOption } from '../client-options.js';
import { MAX_SIM, SIM_KINDS } from '../hub-options.js';
import type { Io } from '../io.js';
import { option, parseOptions } from '../options.js';
import * as v from '../values.js';

export const simOptions = {
  hub: hubUrlOption,
  count: option((raw, source) => v.integer(raw, source, 1, MAX_SIM), {
    valueName: 'N',
    default: 1,
    description: 'number of simulated robots',
  }),
  kind: option((raw, source) => v.choice(raw, source, SIM_KINDS), {
    valueName: 'KIND',
    default: 'mixed',
    description: `kind of robot: ${SIM_KINDS.join(', ')}`,
  }),
  rate: option((raw, source) => v.number(raw, source, 0, 100), {
    valueName: 'HZ',
    default: 1,
    description: 'telemetry messages per robot per second (0-100; 0 sends none)',
  }),
  idPrefix: option(v.nonEmpty, {
    valueName: 'PREFIX',
    defaultText: 'the kind',
    description: 'device ids are <prefix>-0001, <prefix>-0002, ...',
  }),
  token: option(v.nonEmpty, {
    valueName: 'TOKEN',
    env: ['FLOTILLA_ENROLLMENT_TOKEN'],
    description: 'enrollment token (fle_…, multi-use) the robots enroll with on their first connection',
  }),
  state: option(v.nonEmpty, {
    valueName: 'DIR',
    description:
      "directory of sim-credentials.json, so a restarted fleet reuses its credentials, and of each robot's on-disk telemetry buffer (telemetry/<id>); without it, buffers are in memory",
  }),
};

const help = helpText({
  usage: 'flotilla sim [options]',
  description:
    'Runs simulated robots against a hub, each a real agent with its own connection, with plausible telemetry per kind: battery, motor and CPU temperatures, servos, IMU, pose. Runs until Ctrl-C.',
  options: simOptions,
  notes:
    'Examples:\n  flotilla sim --count 50 --token fle_… --state ./sim-state\n  flotilla sim --hub http://hub.local:8080 --count 1000 --kind xle --rate 0.2',
});

/** How often the online count is checked for a progress line. */
const PROGRESS_MS = 1000;

async function run(argv: readonly string[], io: Io): Promise<number> {
  const { values, help: wantsHelp } = parseOptions(simOptions, argv, io.env);
  if (wantsHelp) {
    io.stdout.write(help);
    return 0;
  }
  let stopRequested = (): void => {};
  const stop = new Promise<void>((resolve) => (stopRequested = resolve));
  const starting = new AbortController();
  const dispose = io.onSignal(() => {
    starting.abort();
    stopRequested();
  });
  try {
    const { startSimulation, SimError, SimErrorCodes } = await import('@flotilla/sim');
    io.stdout.write(
      `Starting ${values.count} simulated robot${values.count === 1 ? '' : 's'} (${values.kind}) against ${values.hub}\n`,
    );
    let sim;
    try {
      sim = await startSimulation({
        hubUrl: values.hub,
        count: values.count,
        kind: values.kind,
        rate: values.rate,
        signal: starting.signal,
        ...(values.idPrefix !== undefined ? { idPrefix: values.idPrefix } : {}),
        ...(values.token !== undefined ? { token: values.token } : {}),
        ...(values.state !== undefined
          ? { stateDir: values.state, telemetryBufferDir: join(values.state, 'telemetry') }
          : {}),
      });
    } catch (err) {
      if (starting.signal.aborted) return ExitCodes.OK;
      if (err instanceof SimError && err.code === SimErrorCodes.INVALID_OPTIONS) throw new UsageError(err.message);
      throw new CliError(
        CliErrorCodes.FAILED,
        `cannot start the simulation: ${err instanceof Error ? err.message : String(err)}`,
        ExitCodes.FAILURE,
        {
          cause: err,
        },
      );
    }
    io.stdout.write('Press Ctrl-C to stop.\n');
    let reported = -1;
    const progress = io.clock.setInterval(() => {
      const online = sim.onlineCount();
      if (online === reported) return;
      reported = online;
      io.stdout.write(`${online}/${values.count} online\n`);
    }, PROGRESS_MS);
    await stop;
    progress.cancel();
    io.stderr.write('Stopping…\n');
    await sim.stop();
    return ExitCodes.OK;
  } finally {
    dispose();
  }
}

export const simCommand: Command = { name: 'sim', summary: 'Run simulated robots against a hub', run };
