// Builds the dashboard: web/src -> web/dist.
//
//   dist/index.html               the page, naming the two assets below
//   dist/assets/app-<hash>.js     every module of src/ (and uPlot) in one ES module
//   dist/assets/app-<hash>.css    every stylesheet (uPlot's included)
//   dist/favicon.svg
//
// <hash> is the start of the SHA-256 of the file's own bytes, and nothing in the output
// depends on the date or on where the tree lives, so the same sources and lock file give
// byte-identical files anywhere. cloudyad serves dist/ as it is: /assets/ is cached for a
// year, everything else is revalidated. The page obeys the server's Content-Security-Policy:
// no inline script or style, no URL of another origin.
//
// Usage: node build.mjs            (once)
//        node build.mjs --watch    (rebuilds on every change; restart cloudyad to serve it)
import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, 'src');
const dist = join(here, 'dist');
const watch = process.argv.includes('--watch');

const options = {
  absWorkingDir: here,
  entryPoints: { app: join(src, 'main.js') },
  bundle: true,
  format: 'esm',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  charset: 'utf8',
  outdir: join(dist, 'assets'),
  entryNames: '[name]',
  write: false,
  logLevel: 'warning',
};

/** Writes the build's files under content-hashed names and the page that names them. */
async function emit(outputFiles) {
  await rm(dist, { recursive: true, force: true });
  await mkdir(join(dist, 'assets'), { recursive: true });
  const names = {};
  const digest = createHash('sha256');
  for (const f of [...outputFiles].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    const ext = extname(f.path);
    if (ext !== '.js' && ext !== '.css') throw new Error(`unexpected build output ${f.path}`);
    const hash = createHash('sha256').update(f.contents).digest('hex').slice(0, 12);
    names[ext] = `app-${hash}${ext}`;
    digest.update(f.contents);
    await writeFile(join(dist, 'assets', names[ext]), f.contents);
  }
  if (!names['.js'] || !names['.css']) throw new Error('the build produced no JavaScript or no CSS');
  const template = await readFile(join(src, 'index.html'), 'utf8');
  const html = template.replace('%APP_CSS%', '/assets/' + names['.css']).replace('%APP_JS%', '/assets/' + names['.js']);
  if (html.includes('%APP_')) throw new Error('index.html: a placeholder was left');
  await writeFile(join(dist, 'index.html'), html);
  await copyFile(join(src, 'favicon.svg'), join(dist, 'favicon.svg'));
  const size = outputFiles.reduce((n, f) => n + f.contents.length, 0);
  digest.update(html);
  console.log(`web/dist: ${names['.js']}, ${names['.css']} (${Math.round(size / 1024)} KiB, digest ${digest.digest('hex').slice(0, 12)})`);
}

if (watch) {
  const ctx = await esbuild.context({
    ...options,
    plugins: [{
      name: 'emit',
      setup(build) {
        build.onEnd(async (result) => {
          if (!result.errors.length) await emit(result.outputFiles);
        });
      },
    }],
  });
  await ctx.watch();
  console.log('watching web/src ...');
} else {
  const result = await esbuild.build(options);
  await emit(result.outputFiles);
}
