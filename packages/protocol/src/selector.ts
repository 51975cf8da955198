/**
 * Label selectors, Kubernetes style: comma-separated requirements, all of which must hold.
 *   `type=lekiwi`, `site!=lab`, `zone in (a,b)`, `zone notin (c)`, `gpu` (exists), `!gpu` (absent).
 */
export type Requirement =
  | { key: string; op: 'eq' | 'neq'; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'absent' };

export type SelectorParse = { ok: true; requirements: Requirement[] } | { ok: false; message: string };

const keyRe = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const valueRe = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

/** Splits on commas that are not inside parentheses. */
function splitTop(input: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of input) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

export function parseSelector(input: string): SelectorParse {
  if (input.length > 4096) return { ok: false, message: 'selector longer than 4096 characters' };
  const requirements: Requirement[] = [];
  for (const part of splitTop(input)) {
    let m: RegExpMatchArray | null;
    if ((m = part.match(/^(\S+?)\s+(in|notin)\s*\(([^)]*)\)$/))) {
      const [, key, op, list] = m as unknown as [string, string, 'in' | 'notin', string];
      const values = list.split(',').map((v) => v.trim());
      if (!keyRe.test(key)) return { ok: false, message: `invalid label key ${JSON.stringify(key)}` };
      const bad = values.find((v) => !valueRe.test(v));
      if (bad !== undefined) return { ok: false, message: `invalid label value ${JSON.stringify(bad)}` };
      requirements.push({ key, op, values });
    } else if ((m = part.match(/^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/))) {
      const [, key, op, value] = m as unknown as [string, string, string, string];
      if (!keyRe.test(key)) return { ok: false, message: `invalid label key ${JSON.stringify(key)}` };
      if (!valueRe.test(value)) return { ok: false, message: `invalid label value ${JSON.stringify(value)}` };
      requirements.push({ key, op: op === '!=' ? 'neq' : 'eq', value });
    } else if ((m = part.match(/^!\s*(\S+)$/))) {
      const key = m[1] as string;
      if (!keyRe.test(key)) return { ok: false, message: `invalid label key ${JSON.stringify(key)}` };
      requirements.push({ key, op: 'absent' });
    } else if (keyRe.test(part)) {
      requirements.push({ key: part, op: 'exists' });
    } else {
      return { ok: false, message: `cannot parse selector requirement ${JSON.stringify(part)}` };
    }
  }
  return { ok: true, requirements };
}

export function matchesSelector(
  requirements: readonly Requirement[],
  labels: Readonly<Record<string, string>>,
): boolean {
  for (const r of requirements) {
    const has = Object.prototype.hasOwnProperty.call(labels, r.key);
    const v = has ? labels[r.key] : undefined;
    switch (r.op) {
      case 'eq':
        if (v !== r.value) return false;
        break;
      case 'neq':
        if (v === r.value) return false;
        break;
      case 'in':
        if (v === undefined || !r.values.includes(v)) return false;
        break;
      case 'notin':
        if (v !== undefined && r.values.includes(v)) return false;
        break;
      case 'exists':
        if (!has) return false;
        break;
      case 'absent':
        if (has) return false;
        break;
    }
  }
  return true;
}
