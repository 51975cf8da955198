import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { HubConnection, hubClientOptions } from '../client-options.js';
import { helpText, type Command } from '../command.js';
import { CliError, CliErrorCodes, ExitCodes, UsageError } from '../errors.js';
import type { Io } from '../io.js';
import { option, parseOptions } from '../options.js';
import {
  ID_SOURCES,
  isNodeVersion,
  isPackageSpec,
  isPlainValue,
  renderUserData,
  type IdFrom,
} from '../provision/cloud-init.js';
import * as v from '../values.js';

const MAX_EXPIRES_MS = 366 * 24 * 3600_000;

export const provisionOptions = {
  type: option(v.nonEmpty, {
    valueName: 'TYPE',
    description: 'device type (lekiwi, xle, ...), applied as the label type=TYPE; required',
  }),
  labels: option(v.nonEmpty, {
    valueName: 'K=V,...',
    description: 'more labels for the devices that enroll, such as site=lab,zone=b',
  }),
  uses: option((raw, source) => v.integer(raw, source, 1, 1_000_000), {
    valueName: 'N',
    default: 1,
    description: 'how many devices may enroll with the token (one user-data for N machines)',
  }),
  expiresIn: option((raw, source) => v.duration(raw, source, 60_000, MAX_EXPIRES_MS), {
    valueName: 'DURATION',
    default: 24 * 3600_000,
    defaultText: '24h',
    description: 'how long the token can enroll devices (1m to 366d)',
  }),
  idFrom: option((raw, source) => v.choice(raw, source, ID_SOURCES), {
    valueName: 'SOURCE',
    default: 'hostname' as IdFrom,
    description: 'device id of each machine: its short hostname, or /etc/machine-id',
  }),
  agentHub: option((raw, source) => v.url(raw, source, ['http:', 'https:', 'ws:', 'wss:']), {
    valueName: 'URL',
    description: 'hub address the devices connect to, when it is not the one this command talks to',
  }),
  agentPackage: option(v.nonEmpty, {
    valueName: 'SPEC',
    defaultText: '@flotilla/agent@<this version>',
    description: 'what the devices install with npm install -g: a version, a tarball URL, a private registry name',
  }),
  nodeVersion: option(v.nonEmpty, {
    valueName: 'VERSION',
    default: '24',
    description: 'Node.js the devices install from nodejs.org: 24 (the latest 24.x) or an exact 24.x.y',
  }),
  output: option(v.nonEmpty, {
    short: 'o',
    valueName: 'FILE',
    description: 'write the user-data to FILE (mode 0600) instead of stdout',
  }),
  ...hubClientOptions,
};

const help = helpText({
  usage: 'flotilla provision --type TYPE [--labels K=V,...] [--uses N] [--expires-in 24h] [options]',
  description:
    'Zero-touch provisioning: creates an enrollment token on the hub (needs a login or token with enrollment:manage) and prints a cloud-init #cloud-config user-data for Debian or Ubuntu machines. On first boot it installs Node.js 24 from nodejs.org (checksum verified) and the agent (npm install -g @flotilla/agent), writes the agent configuration to /etc/flotilla/agent.env (0600) and a systemd unit flotilla-agent.service (user flotilla, state in /var/lib/flotilla, 0700, Restart=always), and starts it; the agent enrolls with the token and gets its labels. When the hub serves TLS with its own CA, the CA is embedded. The user-data holds the token: keep it secret.',
  options: provisionOptions,
  notes:
    'Examples:\n  flotilla provision --type xle --labels site=lab > user-data.yaml\n  flotilla provision --type lekiwi --uses 20 --expires-in 7d --id-from machine-id -o fleet.yaml\n  flotilla provision --type xle --agent-hub https://hub.example.com',
});

/** `site=lab,zone=b` → labels, checked against the protocol's label patterns. */
async function parseLabels(text: string | undefined, type: string): Promise<Record<string, string>> {
  const { LABEL_KEY_PATTERN, LABEL_VALUE_PATTERN } = await import('@flotilla/protocol');
  const keyRe = new RegExp(LABEL_KEY_PATTERN);
  const valueRe = new RegExp(LABEL_VALUE_PATTERN);
  const labels: Record<string, string> = {};
  for (const pair of (text ?? '').split(',').filter((p) => p.trim() !== '')) {
    const eq = pair.indexOf('=');
    if (eq < 0) throw new UsageError(`--labels: ${JSON.stringify(pair)} is not KEY=VALUE`);
    const key = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    if (!keyRe.test(key) || key.length > 253)
      throw new UsageError(`--labels: ${JSON.stringify(key)} is not a label key`);
    if (!valueRe.test(value) || value.length > 63)
      throw new UsageError(
        `--labels: ${JSON.stringify(value)} is not a label value (letters, digits, - _ ., at most 63)`,
      );
    if (key === 'type') throw new UsageError('--labels: the type label comes from --type');
    if (key in labels) throw new UsageError(`--labels: ${key} is given twice`);
    labels[key] = value;
  }
  if (!valueRe.test(type) || type === '' || type.length > 63)
    throw new UsageError(`--type ${JSON.stringify(type)} must be a label value (letters, digits, - _ ., at most 63)`);
  return { type, ...labels };
}

/** Written like a secret: a new file created 0600, then renamed over the target. */
function writeSecretFile(path: string, text: string): void {
  const tmp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new CliError(
      CliErrorCodes.FAILED,
      `cannot write ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      ExitCodes.FAILURE,
      { cause: err },
    );
  }
}

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host.startsWith('127.') || host === '[::1]';
}

async function run(argv: readonly string[], io: Io): Promise<number> {
  const { values, help: wantsHelp } = parseOptions(provisionOptions, argv, io.env);
  if (wantsHelp) {
    io.stdout.write(help);
    return ExitCodes.OK;
  }
  if (values.type === undefined) throw new UsageError('missing --type TYPE');
  if (!isNodeVersion(values.nodeVersion))
    throw new UsageError(`--node-version must be 24 or 24.x.y, got ${JSON.stringify(values.nodeVersion)}`);
  const labels = await parseLabels(values.labels, values.type);
  const { AGENT_VERSION, parseAgentArgs } = await import('@flotilla/agent');
  const agentPackage = values.agentPackage ?? `@flotilla/agent@${AGENT_VERSION}`;
  if (!isPackageSpec(agentPackage))
    throw new UsageError(`--agent-package ${JSON.stringify(agentPackage)} holds characters a script cannot take`);

  const hub = HubConnection.open(values, io);
  const agentHub = values.agentHub ?? hub.hub;
  if (!isPlainValue(agentHub))
    throw new UsageError(`the hub URL ${JSON.stringify(agentHub)} holds characters a configuration file cannot take`);

  const { created, ca } = await hub.call(async (client) => {
    // The CA first: a hub that cannot say whether it has one should not leave a token behind.
    const ca = await client.tlsCa();
    const created = await client.createEnrollmentToken({
      uses: values.uses,
      expiresIn: Math.ceil(values.expiresIn / 1000),
      labels,
    });
    return { created, ca };
  });

  // The bundled agent's own parser says whether it takes --ca; the devices install the same version.
  const agentTakesCa = parseAgentArgs(['--hub', 'https://hub.invalid', '--ca', '/x.pem']).ok;
  const expires = created.expiresAt === null ? 'never expires' : `expires ${new Date(created.expiresAt).toISOString()}`;
  const summary = `Flotilla agent for ${agentHub}, made by flotilla provision: enrollment token ${created.id} for ${created.uses ?? 'any number of'} device(s), ${expires}, labels ${JSON.stringify(created.labels)}.`;
  const userData = renderUserData({
    hubUrl: agentHub,
    enrollmentToken: created.token,
    summary,
    ca: ca ?? undefined,
    agentTakesCa,
    idFrom: values.idFrom,
    agentPackage,
    nodeVersion: values.nodeVersion,
  });

  if (values.output !== undefined) writeSecretFile(values.output, userData);
  else io.stdout.write(userData);
  const where = values.output === undefined ? '' : ` in ${values.output}`;
  io.stderr.write(
    `Created enrollment token ${created.id} (${created.uses ?? 'unlimited'} use${created.uses === 1 ? '' : 's'}, ${expires}); the user-data${where} holds it: keep it secret.\n`,
  );
  if (isLoopback(agentHub))
    io.stderr.write(`Devices will connect to ${agentHub}, which is this machine's own address: set --agent-hub URL.\n`);
  return ExitCodes.OK;
}

export const provisionCommand: Command = {
  name: 'provision',
  summary: 'Print cloud-init user-data that installs and enrolls an agent',
  run,
};
