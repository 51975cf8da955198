#!/usr/bin/env node
// The hub's embedded storage is Node's built-in `node:sqlite` (22.5+). Say so in one line
// rather than failing later with a stack trace; npm scripts and npx use the repository's Node 24.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 5)) {
  process.stderr.write(
    `flotilla: needs Node.js 22.5 or newer (this is ${process.version}); in the repository run it as \`npx flotilla\` or through npm scripts, which use its pinned Node 24\n`,
  );
  process.exit(1);
}
// Node keeps the compiled code of the modules loaded below on disk (in the temp directory), so
// later runs skip parsing and compiling them: about 0.1 s of CPU off each start, as TypeScript's
// `tsc` does. NODE_DISABLE_COMPILE_CACHE=1 turns it off.
const { enableCompileCache } = await import('node:module');
enableCompileCache();
const { processIo } = await import('./io.js');
const { main } = await import('./main.js');

// `flotilla devices | head` closes the pipe early; that is not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

// Exit explicitly: a command that finished must not be kept alive by a socket it left behind.
process.exit(await main(process.argv.slice(2), processIo()));
