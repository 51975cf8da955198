#!/usr/bin/env node
import { processIo } from './io.js';
import { main } from './main.js';

// `flotilla devices | head` closes the pipe early; that is not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

// Exit explicitly: a command that finished must not be kept alive by a socket it left behind.
process.exit(await main(process.argv.slice(2), processIo()));
