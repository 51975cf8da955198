import { parse } from 'yaml';

/** A `#cloud-config` document as far as the tests read it. */
export interface CloudConfig {
  package_update?: boolean;
  packages?: string[];
  write_files: Array<{ path: string; owner?: string; permissions: string; content: string }>;
  runcmd: unknown[];
}

/** Parses user-data with a real YAML parser (a malformed document throws). */
export function parseUserData(text: string): CloudConfig {
  if (!text.startsWith('#cloud-config\n')) throw new Error('user-data must start with #cloud-config');
  return parse(text) as CloudConfig;
}

export function fileOf(config: CloudConfig, path: string): { permissions: string; content: string; owner?: string } {
  const file = config.write_files.find((f) => f.path === path);
  if (!file) throw new Error(`no ${path} in write_files`);
  return file;
}

/** `KEY=VALUE` lines of a systemd EnvironmentFile (comments and blanks skipped). */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}

/**
 * The agent's argv as systemd would run ExecStart= of the unit: words split on spaces and each
 * `${NAME}` replaced by the environment (as one word). Returns the executable and its arguments.
 */
export function execStart(unit: string, env: Record<string, string>): { executable: string; args: string[] } {
  const line = unit.split('\n').find((l) => l.startsWith('ExecStart='));
  if (!line) throw new Error('the unit has no ExecStart=');
  const words = line
    .slice('ExecStart='.length)
    .split(' ')
    .map((word) =>
      word.replace(/\$\{([A-Z_]+)\}/g, (_, name: string) => {
        const value = env[name];
        if (value === undefined) throw new Error(`ExecStart uses \${${name}}, which the environment lacks`);
        return value;
      }),
    );
  const [executable = '', ...args] = words;
  return { executable, args };
}

/** `Key=Value` settings of a unit (last one wins; `Environment=` lines collected). */
export function unitSettings(unit: string): { settings: Map<string, string>; environment: string[] } {
  const settings = new Map<string, string>();
  const environment: string[] = [];
  for (const line of unit.split('\n')) {
    const eq = line.indexOf('=');
    if (eq < 0 || line.startsWith('#')) continue;
    const key = line.slice(0, eq);
    if (key === 'Environment') environment.push(line.slice(eq + 1));
    else settings.set(key, line.slice(eq + 1));
  }
  return { settings, environment };
}
