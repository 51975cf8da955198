import { fileURLToPath } from 'node:url';

/**
 * The built console (`index.html` and `assets/`), for `startHub({ consoleDir })`: `flotilla hub`
 * passes it, so `npm start` serves the console at `/`.
 */
export const consoleDir: string = fileURLToPath(new URL('../web/', import.meta.url));
