// `npm start`: the one-command demo. Runs `flotilla hub` on the pinned Node with embedded storage
// and a simulated fleet (12 robots unless FLOTILLA_SIM says otherwise). Every hub setting can be
// changed through FLOTILLA_* variables or flags after `--` (`npm start -- --port 9090`).
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url));
const args = process.argv.slice(2);
const env = { ...process.env, FLOTILLA_SIM: process.env.FLOTILLA_SIM ?? '12' };

// The hub refuses to start when its MQTT port is taken, as it should. A demo should just run:
// when nobody chose the port and 1883 is taken (often by a Mosquitto already running), the demo's
// broker takes a free port instead, and says so.
const mqttPortChosen = env.FLOTILLA_MQTT_PORT !== undefined || args.some((a) => a.startsWith('--mqtt-port'));
if (!mqttPortChosen && !(await portFree(1883, env.FLOTILLA_HOST ?? '0.0.0.0'))) {
  env.FLOTILLA_MQTT_PORT = '0';
  process.stderr.write(
    'npm start: MQTT port 1883 is taken (another broker?), so the hub uses a free port (shown below); choose one with FLOTILLA_MQTT_PORT\n',
  );
}

const child = spawn(process.execPath, [bin, 'hub', ...args], { stdio: 'inherit', env });

// Ctrl-C reaches the hub directly (same process group); the hub stops the simulated fleet and
// itself, and this wrapper exits with its status instead of dying first.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (child.exitCode === null) child.kill(signal);
  });
}
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));

function portFree(port, host) {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}
