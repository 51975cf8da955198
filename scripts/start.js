// `npm start`: the one-command demo. Runs `flotilla hub` on the pinned Node with embedded storage
// and a simulated fleet (12 robots unless FLOTILLA_SIM says otherwise). Every hub setting can be
// changed through FLOTILLA_* variables or flags after `--` (`npm start -- --port 9090`).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url));
const env = { ...process.env, FLOTILLA_SIM: process.env.FLOTILLA_SIM ?? '12' };
const child = spawn(process.execPath, [bin, 'hub', ...process.argv.slice(2)], { stdio: 'inherit', env });

// Ctrl-C reaches the hub directly (same process group); the hub stops the simulated fleet and
// itself, and this wrapper exits with its status instead of dying first.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (child.exitCode === null) child.kill(signal);
  });
}
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
