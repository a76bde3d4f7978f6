/**
 * Bundles the console UI (local/console/ui, Preact + Pico + dagre) with the project's esbuild into
 * one HTML shell and its assets: `index.html` for every page (the UI routes on the client),
 * `assets/console.js` and `assets/console.css`. The console server calls it on start; it takes well
 * under a second, so nothing built is committed (dist/ is git-ignored).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
export const CONSOLE_DIST = path.join(here, 'dist');

const SHELL = `<!doctype html>
<html lang="en" data-theme="light">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>order-middleware console</title>
    <link rel="stylesheet" href="/assets/console.css" />
  </head>
  <body>
    <div id="console"></div>
    <script type="module" src="/assets/console.js"></script>
  </body>
</html>
`;

export async function buildConsoleUi(outDir: string = CONSOLE_DIST): Promise<void> {
  const assets = path.join(outDir, 'assets');
  await mkdir(assets, { recursive: true });
  await build({
    entryPoints: { console: path.join(here, 'ui', 'main.tsx') },
    outdir: assets,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome110', 'firefox110', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    sourcemap: 'linked',
    legalComments: 'linked',
    loader: { '.svg': 'dataurl', '.woff2': 'file' },
    logLevel: 'silent',
    // The UI has its own tsconfig (DOM lib, Preact JSX); the root one is for Node code.
    tsconfig: path.join(here, 'ui', 'tsconfig.json'),
  });
  await writeFile(path.join(outDir, 'index.html'), SHELL);
}
