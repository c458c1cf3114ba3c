// Bundles the console page into OUT (default ../build/web): index.html,
// assets/app.js (the page's code with uPlot) and assets/app.css.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] || join(here, '..', 'build', 'web'));

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });
await build({
  entryPoints: { app: join(here, 'src', 'app.js') },
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2020',
  loader: { '.css': 'css' },
  outdir: join(out, 'assets'),
  logLevel: 'warning',
});
copyFileSync(join(here, 'src', 'index.html'), join(out, 'index.html'));
