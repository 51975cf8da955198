import type { ReactNode } from 'react';

/**
 * Forms generated from a HAL command's argument schema (JSON Schema, closed objects; docs/hal.md):
 * numbers and integers with their bounds, booleans, strings with a pattern or a set of
 * constants, nested objects; anything else (arrays) is typed as JSON. Field values are kept as
 * entered (strings and booleans by path) and turned into arguments on send, so a half-typed
 * number is never coerced behind the user's back. The hub validates again and says what is wrong.
 */
export interface Schema {
  type?: string | string[];
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  pattern?: string;
  default?: unknown;
}

export type FormValues = Record<string, string | boolean>;

function typeOf(schema: Schema): string | undefined {
  return Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
}

/** The constants a field may take (`enum`, or `anyOf` of `const`s), or undefined. */
function choices(schema: Schema): unknown[] | undefined {
  if (schema.enum) return schema.enum;
  if (schema.anyOf?.every((s) => 'const' in s)) return schema.anyOf.map((s) => s.const);
  return undefined;
}

export class ArgsError extends Error {
  override readonly name = 'ArgsError';
}

/** The arguments the form's values stand for; throws ArgsError naming the field that is wrong. */
export function buildArgs(schema: Schema, values: FormValues, path = ''): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  const required = new Set(schema.required ?? []);
  for (const [name, field] of Object.entries(schema.properties ?? {})) {
    const key = path ? `${path}.${name}` : name;
    const type = typeOf(field);
    if (type === 'object' && field.properties) {
      const nested = buildArgs(field, values, key);
      if (required.has(name) || Object.keys(nested).length > 0) args[name] = nested;
      continue;
    }
    const raw = values[key];
    if (type === 'boolean') {
      if (raw !== undefined || required.has(name)) args[name] = raw === true;
      continue;
    }
    if (raw === undefined || raw === '' || raw === false) {
      if (required.has(name)) throw new ArgsError(`${key} is required`);
      continue;
    }
    const text = String(raw);
    const options = choices(field);
    if (options) {
      const chosen = options.find((o) => String(o) === text);
      if (chosen === undefined) throw new ArgsError(`${key} must be one of ${options.join(', ')}`);
      args[name] = chosen;
    } else if (type === 'number' || type === 'integer') {
      const n = Number(text);
      if (!Number.isFinite(n) || (type === 'integer' && !Number.isInteger(n)))
        throw new ArgsError(`${key} must be ${type === 'integer' ? 'a whole number' : 'a number'}`);
      args[name] = n;
    } else if (type === 'string') {
      args[name] = text;
    } else {
      try {
        args[name] = JSON.parse(text);
      } catch {
        throw new ArgsError(`${key} is not JSON`);
      }
    }
  }
  return args;
}

interface FieldsProps {
  schema: Schema;
  values: FormValues;
  onChange: (key: string, value: string | boolean) => void;
  /** Prefix of ids, so two forms on a page never share one. */
  idPrefix: string;
  path?: string;
}

/** The inputs for an object schema's properties, each with a label (its name) and its description. */
export function SchemaFields({ schema, values, onChange, idPrefix, path = '' }: FieldsProps): ReactNode {
  const required = new Set(schema.required ?? []);
  const fields = Object.entries(schema.properties ?? {});
  if (fields.length === 0 && !path) return <p className="muted">No arguments.</p>;
  return fields.map(([name, field]) => {
    const key = path ? `${path}.${name}` : name;
    const id = `${idPrefix}-${key}`;
    const type = typeOf(field);
    const hint = [field.description, required.has(name) ? 'required' : 'optional'].filter(Boolean).join(' · ');
    if (type === 'object' && field.properties) {
      return (
        <fieldset key={key} style={{ border: '1px solid var(--border)', borderRadius: 8 }}>
          <legend>{name}</legend>
          <SchemaFields schema={field} values={values} onChange={onChange} idPrefix={idPrefix} path={key} />
        </fieldset>
      );
    }
    if (type === 'boolean') {
      return (
        <label key={key} className="row" htmlFor={id}>
          <input
            id={id}
            type="checkbox"
            checked={values[key] === true}
            onChange={(e) => onChange(key, e.target.checked)}
          />
          {name} <span className="muted">{hint}</span>
        </label>
      );
    }
    const options = choices(field);
    const value = typeof values[key] === 'string' ? (values[key] as string) : '';
    let input: ReactNode;
    if (options) {
      input = (
        <select
          id={id}
          aria-describedby={`${id}-hint`}
          value={value}
          onChange={(e) => onChange(key, e.target.value)}
          required={required.has(name)}
        >
          <option value="">—</option>
          {options.map((o) => (
            <option key={String(o)} value={String(o)}>
              {String(o)}
            </option>
          ))}
        </select>
      );
    } else if (type === 'number' || type === 'integer') {
      const min = field.minimum ?? field.exclusiveMinimum;
      const max = field.maximum ?? field.exclusiveMaximum;
      input = (
        <input
          id={id}
          aria-describedby={`${id}-hint`}
          type="number"
          inputMode="decimal"
          step={type === 'integer' ? 1 : 'any'}
          {...(min !== undefined && { min })}
          {...(max !== undefined && { max })}
          required={required.has(name)}
          value={value}
          onChange={(e) => onChange(key, e.target.value)}
        />
      );
    } else if (type === 'string') {
      input = (
        <input
          id={id}
          aria-describedby={`${id}-hint`}
          {...(field.pattern !== undefined && { pattern: field.pattern })}
          required={required.has(name)}
          value={value}
          onChange={(e) => onChange(key, e.target.value)}
        />
      );
    } else {
      input = (
        <textarea
          id={id}
          aria-describedby={`${id}-hint`}
          rows={3}
          className="mono"
          placeholder="JSON"
          required={required.has(name)}
          value={value}
          onChange={(e) => onChange(key, e.target.value)}
        />
      );
    }
    const range =
      (type === 'number' || type === 'integer') && (field.minimum !== undefined || field.maximum !== undefined)
        ? ` (${field.minimum ?? '…'} to ${field.maximum ?? '…'})`
        : '';
    return (
      <div key={key} className="field">
        <label htmlFor={id}>{name}</label>
        {input}
        <span id={`${id}-hint`}>
          {hint}
          {range}
        </span>
      </div>
    );
  });
}
