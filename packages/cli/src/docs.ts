import { hubFlagsMarkdown } from './hub-options.js';
import type { Io } from './io.js';
import { commands, main } from './main.js';

/**
 * The parts of docs/cli.md that are generated from the code: every `--help` text and the hub's
 * configuration table. Each sits between `<!-- BEGIN generated:NAME -->` and
 * `<!-- END generated:NAME -->`; `npm run docs -w @flotilla/cli` rewrites them and a test fails
 * when they are stale.
 */
async function helpOf(argv: string[]): Promise<string> {
  let out = '';
  const io: Io = {
    stdout: { write: (text) => void (out += text) },
    stderr: { write: () => {} },
    stdin: { isTTY: false, readAll: () => Promise.resolve(''), ask: () => Promise.resolve('') },
    env: {},
    clock: { now: () => 0, setTimeout: () => ({ cancel() {} }), setInterval: () => ({ cancel() {} }) },
    onSignal: () => () => {},
  };
  await main(argv, io);
  return '```text\n' + out + '```';
}

export async function generatedSections(): Promise<Map<string, string>> {
  const sections = new Map<string, string>();
  sections.set('help', await helpOf(['--help']));
  for (const c of commands) sections.set(`help-${c.name}`, await helpOf([c.name, '--help']));
  sections.set('hub-flags', hubFlagsMarkdown());
  return sections;
}

function markers(name: string): [string, string] {
  return [`<!-- BEGIN generated:${name} -->`, `<!-- END generated:${name} -->`];
}

/** The document with every generated section replaced; throws when a section's markers are missing. */
export function applySections(doc: string, sections: ReadonlyMap<string, string>): string {
  let result = doc;
  for (const [name, body] of sections) {
    const [begin, end] = markers(name);
    const from = result.indexOf(begin);
    const to = result.indexOf(end);
    if (from < 0 || to < from) throw new Error(`docs/cli.md lacks the markers of section ${name}: ${begin} ... ${end}`);
    result = `${result.slice(0, from + begin.length)}\n${body}\n${result.slice(to)}`;
  }
  return result;
}
