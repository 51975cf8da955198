// The machine floors of bench:commands, in a process of their own (forked with IPC) as a hub
// would be: the least a server can do per round trip on this machine, with no hub code at all.
// - `--mode http`: node:http answering every request with the same small JSON (keep-alive);
// - `--mode ws`: a `ws` server echoing every frame back unchanged (no per-message deflate, as
//   the hub's /ws/agent).
//
//   args: --mode http|ws
// IPC: sends {port} once listening on 127.0.0.1, and exits on 'stop'.
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';

const { values } = parseArgs({ options: { mode: { type: 'string', default: 'http' } }, strict: true });

// What /api/v1/ready answers, so the body costs what the hub's HTTP floor row costs.
const BODY = JSON.stringify({ status: 'ready' });

const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) });
  res.end(BODY);
});
if (values.mode === 'ws') {
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
} else if (values.mode !== 'http') {
  console.error(`floor-server: --mode http|ws, not ${values.mode}`);
  process.exit(2);
}

server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('message', (message) => {
  if (message === 'stop') process.exit(0);
});
