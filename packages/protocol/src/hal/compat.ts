import type { CapabilityDocument, JsonSchema } from './spec.js';

/**
 * Whether a new version of a capability can replace a published one without breaking anybody:
 * clients that send commands written against the old version, devices that implement it, and
 * dashboards that read its metrics. The rules:
 * - command arguments may only widen: everything the old schema accepted, the new one accepts
 *   (new optional properties, wider ranges, more enum values);
 * - results and samples may only narrow: everything the new one produces, the old one accepted;
 * - commands, metrics and samples are never removed; a metric keeps its unit; priorities stay.
 * Anything else is a new major version (`hal.v2.*`) next to the old one.
 *
 * The comparison understands the JSON Schema this catalogue uses (type, properties, required,
 * additionalProperties, items, numeric and length bounds, pattern, const/enum, anyOf). What it
 * cannot prove compatible it reports, so it errs on the side of a new major version.
 */
export function breakingChanges(published: CapabilityDocument, next: CapabilityDocument): string[] {
  const problems: string[] = [];
  for (const [name, old] of Object.entries(published.commands)) {
    const now = next.commands[name];
    if (!now) {
      problems.push(`command ${name} was removed`);
      continue;
    }
    accepts(old.args, now.args, `command ${name} args`, problems);
    if (old.result) {
      if (now.result) accepts(now.result, old.result, `command ${name} result`, problems);
      else problems.push(`command ${name} no longer describes its result`);
    }
    if ((old.priority ?? 'normal') !== (now.priority ?? 'normal')) problems.push(`command ${name} changed priority`);
    if (Boolean(old.job) !== Boolean(now.job)) problems.push(`command ${name} changed between job and command`);
  }
  for (const [name, old] of Object.entries(published.metrics)) {
    const now = next.metrics[name];
    if (!now) problems.push(`metric ${name} was removed`);
    else if (now.unit !== old.unit) problems.push(`metric ${name} changed unit from ${old.unit} to ${now.unit}`);
  }
  for (const [name, old] of Object.entries(published.samples)) {
    const now = next.samples[name];
    if (!now) problems.push(`sample ${name} was removed`);
    else accepts(now, old, `sample ${name}`, problems);
  }
  return problems;
}

/** Records in `problems` why `wide` might refuse a value `narrow` accepts (nothing when it cannot). */
export function accepts(narrow: JsonSchema, wide: JsonSchema, where: string, problems: string[]): void {
  if (Object.keys(wide).every((k) => k === 'description' || k === 'title')) return; // accepts anything
  const wideAny = wide['anyOf'] as JsonSchema[] | undefined;
  const narrowAny = narrow['anyOf'] as JsonSchema[] | undefined;
  if (narrowAny) {
    narrowAny.forEach((branch, i) => accepts(branch, wide, `${where} (variant ${i + 1})`, problems));
    return;
  }
  if (wideAny) {
    // Some branch of `wide` must take all of `narrow`.
    const fits = wideAny.some((branch) => {
      const found: string[] = [];
      accepts(narrow, branch, where, found);
      return found.length === 0;
    });
    if (!fits) problems.push(`${where}: no variant accepts what was accepted before`);
    return;
  }

  const narrowType = narrow['type'];
  const wideType = wide['type'];
  if (wideType !== undefined && narrowType !== wideType && !(wideType === 'number' && narrowType === 'integer')) {
    problems.push(`${where}: type ${String(narrowType ?? 'any')} became ${String(wideType)}`);
    return;
  }

  if ('const' in wide || 'enum' in wide) {
    const allowed = 'const' in wide ? [wide['const']] : (wide['enum'] as unknown[]);
    const before = 'const' in narrow ? [narrow['const']] : (narrow['enum'] as unknown[] | undefined);
    if (!before || before.some((v) => !allowed.some((a) => JSON.stringify(a) === JSON.stringify(v)))) {
      problems.push(`${where}: allows fewer values`);
    }
  }
  if (wide['pattern'] !== undefined && wide['pattern'] !== narrow['pattern']) {
    problems.push(`${where}: pattern changed`);
  }
  if (wide['format'] !== undefined && wide['format'] !== narrow['format']) problems.push(`${where}: format changed`);
  lowerBound('minimum', narrow, wide, where, problems);
  lowerBound('exclusiveMinimum', narrow, wide, where, problems);
  lowerBound('minLength', narrow, wide, where, problems);
  lowerBound('minItems', narrow, wide, where, problems);
  upperBound('maximum', narrow, wide, where, problems);
  upperBound('exclusiveMaximum', narrow, wide, where, problems);
  upperBound('maxLength', narrow, wide, where, problems);
  upperBound('maxItems', narrow, wide, where, problems);
  if (wide['multipleOf'] !== undefined && wide['multipleOf'] !== narrow['multipleOf']) {
    problems.push(`${where}: multipleOf changed`);
  }

  if (wideType === 'object' || wide['properties'] !== undefined) objectAccepts(narrow, wide, where, problems);
  if (wide['items'] !== undefined) {
    const narrowItems = narrow['items'] as JsonSchema | undefined;
    if (!narrowItems) problems.push(`${where}: items are now constrained`);
    else accepts(narrowItems, wide['items'] as JsonSchema, `${where}[]`, problems);
  }
}

function objectAccepts(narrow: JsonSchema, wide: JsonSchema, where: string, problems: string[]): void {
  const narrowProps = (narrow['properties'] ?? {}) as Record<string, JsonSchema>;
  const wideProps = (wide['properties'] ?? {}) as Record<string, JsonSchema>;
  const narrowRequired = new Set((narrow['required'] ?? []) as string[]);
  for (const name of (wide['required'] ?? []) as string[]) {
    if (!narrowRequired.has(name)) problems.push(`${where}: ${name} became required`);
  }
  const wideClosed = wide['additionalProperties'] === false;
  const narrowClosed = narrow['additionalProperties'] === false;
  for (const [name, schema] of Object.entries(narrowProps)) {
    const now = wideProps[name];
    if (now) accepts(schema, now, `${where}.${name}`, problems);
    else if (wideClosed) problems.push(`${where}: ${name} was removed`);
  }
  if (!narrowClosed) {
    // Anything went before: a newly described property narrows what was accepted.
    if (wideClosed) problems.push(`${where}: unknown properties are now refused`);
    for (const name of Object.keys(wideProps)) {
      if (!(name in narrowProps)) problems.push(`${where}: ${name} is now constrained`);
    }
  }
}

function lowerBound(key: string, narrow: JsonSchema, wide: JsonSchema, where: string, problems: string[]): void {
  const w = wide[key];
  if (typeof w !== 'number') return;
  const n = narrow[key];
  if (typeof n !== 'number' || n < w) problems.push(`${where}: ${key} raised to ${w}`);
}

function upperBound(key: string, narrow: JsonSchema, wide: JsonSchema, where: string, problems: string[]): void {
  const w = wide[key];
  if (typeof w !== 'number') return;
  const n = narrow[key];
  if (typeof n !== 'number' || n > w) problems.push(`${where}: ${key} lowered to ${w}`);
}
