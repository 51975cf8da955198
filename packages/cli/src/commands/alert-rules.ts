import { readFileSync } from 'node:fs';
import type { AlertCondition, AlertRule, AlertRuleInput, AlertSeverity, FlotillaClient } from '@flotilla/sdk';
import { HubConnection, hubClientOptions } from '../client-options.js';
import { helpText, type Command } from '../command.js';
import { CliError, CliErrorCodes, ExitCodes, UsageError } from '../errors.js';
import { conditionText, parseCondition } from '../format/alert-condition.js';
import { styleFor } from '../format/style.js';
import { renderTable, truncate } from '../format/table.js';
import type { Io } from '../io.js';
import { flag, list, option, parseOptions, type OptionValues } from '../options.js';
import * as v from '../values.js';

const SEVERITIES: readonly AlertSeverity[] = ['info', 'warning', 'critical'];
const ACTIONS = ['list', 'create', 'delete', 'enable', 'disable'] as const;

export const alertRulesOptions = {
  file: option(v.nonEmpty, {
    short: 'f',
    valueName: 'FILE',
    description: 'create: the rule as JSON (- reads standard input); an AlertRule resource works too',
  }),
  name: option(v.nonEmpty, { valueName: 'NAME', description: 'create: the rule’s name' }),
  severity: option((raw, source) => v.choice(raw, source, SEVERITIES), {
    valueName: 'LEVEL',
    description: 'create: info, warning or critical',
  }),
  when: list(v.nonEmpty, {
    valueName: 'EXPR',
    description: 'create: a condition (see below); repeat for several, all of which must hold',
  }),
  any: flag({ description: 'create: fire when any --when holds, not all' }),
  selector: option(v.nonEmpty, {
    valueName: 'SELECTOR',
    description: 'create: the devices the rule watches, by label (type=lekiwi,site=lab); default all',
  }),
  description: option(v.nonEmpty, { valueName: 'TEXT', description: 'create: what the rule is for' }),
  webhook: list((raw, source) => v.url(raw, source, ['http:', 'https:']), {
    valueName: 'URL',
    description: 'create: POST each transition there; repeat for several',
  }),
  secret: option(v.nonEmpty, {
    valueName: 'SECRET',
    env: ['FLOTILLA_WEBHOOK_SECRET'],
    description: 'create: sign webhook deliveries with it (HMAC-SHA256)',
  }),
  disabled: flag({ description: 'create: store the rule without evaluating it yet' }),
  json: flag({ description: 'print rules as JSON' }),
  ...hubClientOptions,
};

const help = helpText({
  usage:
    'flotilla alert-rules [list] [--json]\n' +
    '       flotilla alert-rules create -f FILE | --name NAME --severity LEVEL --when EXPR... [options]\n' +
    '       flotilla alert-rules delete|enable|disable ID|NAME',
  description:
    'Manages alert rules: the conditions under which the hub raises an alert for a device (docs/alerts.md). Creating, changing and deleting rules needs the engineer or admin role.',
  options: alertRulesOptions,
  notes: [
    'Conditions (--when):',
    '  temperature > 70 for 30s clear 65   a threshold held 30s; clears below 65',
    '  battery below 20 for 1m             battery under 20 for a minute',
    '  offline for 5m                      the device offline for 5 minutes',
    '  no-data [METRIC] for 10m            no telemetry (of METRIC) for 10 minutes',
    '  rate(battery) < -1 per minute over 5m   a rate of change over a window',
    '',
    'Examples:',
    '  flotilla alert-rules create --name "hot motor" --severity warning \\',
    '    --selector type=lekiwi --when "temperature > 70 for 30s clear 65"',
    '  flotilla alert-rules create -f rule.json',
    '  flotilla alert-rules disable "hot motor"',
  ].join('\n'),
});

function fail(message: string): never {
  throw new CliError(CliErrorCodes.FAILED, message, ExitCodes.FAILURE);
}

/** A rule from a file: the API's shape, or an AlertRule resource (`metadata.name` + `spec`). */
function fromDocument(text: string, where: string): AlertRuleInput {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${where} is not JSON: ${(err as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new UsageError(`${where} must hold one JSON object`);
  const o = doc as Record<string, unknown>;
  if (o['kind'] === undefined) return o as unknown as AlertRuleInput;
  if (o['kind'] !== 'AlertRule')
    throw new UsageError(`${where}: kind must be AlertRule, got ${JSON.stringify(o['kind'])}`);
  const metadata = (o['metadata'] ?? {}) as { name?: unknown };
  return { name: metadata.name, ...(o['spec'] as object) } as AlertRuleInput;
}

async function ruleFromOptions(values: OptionValues<typeof alertRulesOptions>, io: Io): Promise<AlertRuleInput> {
  const { file, when, name, severity, secret } = values;
  if (file !== undefined) {
    if (when.length > 0) throw new UsageError('give the rule either in -f FILE or with --when, not both');
    return fromDocument(
      file === '-' ? await io.stdin.readAll() : readText(file),
      file === '-' ? 'standard input' : file,
    );
  }
  if (name === undefined || severity === undefined || when.length === 0)
    throw new UsageError('create needs -f FILE, or --name, --severity and at least one --when');
  const conditions = when.map(parseCondition);
  const [only] = conditions;
  const condition: AlertCondition =
    conditions.length === 1 && only ? only : values.any ? { or: conditions } : { and: conditions };
  const webhooks = values.webhook.map((url) => (secret === undefined ? { url } : { url, secret }));
  return {
    name,
    severity,
    condition,
    ...(values.selector !== undefined && { selector: values.selector }),
    ...(values.description !== undefined && { description: values.description }),
    ...(values.disabled && { enabled: false }),
    ...(webhooks.length > 0 && { webhooks }),
  };
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    return fail(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** A rule by id or by name. */
async function find(client: FlotillaClient, ref: string): Promise<AlertRule> {
  const rules = await client.alerts.listRules();
  const rule = rules.find((r) => r.id === ref) ?? rules.find((r) => r.name === ref);
  return rule ?? fail(`no alert rule with the id or name ${JSON.stringify(ref)} (flotilla alert-rules lists them)`);
}

async function run(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals, help: wantsHelp } = parseOptions(alertRulesOptions, argv, io.env, 2);
  if (wantsHelp) {
    io.stdout.write(help);
    return 0;
  }
  const [verb = 'list', ref] = positionals;
  if (!(ACTIONS as readonly string[]).includes(verb))
    throw new UsageError(`unknown action ${JSON.stringify(verb)}: ${ACTIONS.join(', ')}`);
  const connection = HubConnection.open(values, io);
  const print = (rule: AlertRule, text: string) =>
    io.stdout.write(values.json ? `${JSON.stringify(rule, null, 2)}\n` : `${text}\n`);

  if (verb === 'create') {
    const input = await ruleFromOptions(values, io);
    const rule = await connection.call((client) => client.alerts.createRule(input));
    print(rule, `Created alert rule ${rule.name} (${rule.id}): ${conditionText(rule.condition)}`);
    return 0;
  }
  if (verb !== 'list') {
    if (ref === undefined) throw new UsageError(`${verb} needs a rule ID or NAME`);
    await connection.call(async (client) => {
      const rule = await find(client, ref);
      if (verb === 'delete') {
        await client.alerts.deleteRule(rule.id);
        print(rule, `Deleted alert rule ${rule.name} (${rule.id}); its open alerts are resolved.`);
      } else {
        const changed = await client.alerts.updateRule(rule.id, { enabled: verb === 'enable' });
        print(changed, `Alert rule ${changed.name} is ${changed.enabled ? 'enabled' : 'disabled'}.`);
      }
    });
    return 0;
  }
  const rules = await connection.call((client) => client.alerts.listRules());
  if (values.json) {
    io.stdout.write(`${JSON.stringify(rules, null, 2)}\n`);
    return 0;
  }
  if (rules.length === 0) {
    io.stdout.write('No alert rules yet: flotilla alert-rules create --help shows how to add one.\n');
    return 0;
  }
  const style = styleFor(io.stdout, io.env);
  io.stdout.write(
    renderTable(
      ['NAME', 'SEVERITY', 'ENABLED', 'DEVICES', 'WEBHOOKS', 'ID', 'CONDITION'],
      rules.map((rule) => [
        rule.name,
        rule.severity,
        rule.enabled ? 'yes' : style.dim('no'),
        rule.selector || 'all',
        String(rule.webhooks.length),
        rule.id,
        truncate(conditionText(rule.condition), 80),
      ]),
      style,
    ),
  );
  return 0;
}

export const alertRulesCommand: Command = { name: 'alert-rules', summary: 'List, create and delete alert rules', run };
