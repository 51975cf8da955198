// Builds the console into dist/web, which the hub serves (packages/hub http/routes/console.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * Writes .gz and .br beside each bundle once Vite wrote it (its last transforms included), which
 * the hub sends to browsers that accept them.
 */
function precompress(): Plugin {
  return {
    name: 'flotilla-precompress',
    apply: 'build',
    enforce: 'post',
    writeBundle(options, bundle) {
      const dir = options.dir ?? 'dist/web';
      for (const fileName of Object.keys(bundle)) {
        if (!/\.(js|css|svg)$/.test(fileName)) continue;
        const bytes = readFileSync(join(dir, fileName));
        writeFileSync(join(dir, `${fileName}.gz`), gzipSync(bytes, { level: 9 }));
        // Quality 9 of 11: within a few per cent of the best, in a fraction of the build time.
        writeFileSync(
          join(dir, `${fileName}.br`),
          brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 9 } }),
        );
      }
    },
  };
}

export default defineConfig({
  plugins: [react(), precompress()],
  build: {
    outDir: 'dist/web',
    emptyOutDir: true,
    sourcemap: false,
    reportCompressedSize: false,
    // The compression step is deliberately slow (it runs once per build, for every browser after).
    rolldownOptions: { checks: { bundlerTimings: false } },
  },
});
