// Module hooks for run.mjs: tfjs-core and tfjs-backend-cpu ship their ES
// modules (dist/**/*.js, the tests among them) with extensionless relative
// imports in a package without "type": "module". These hooks load those
// files as ES modules, resolve their extensionless imports, and send every
// import of the two packages to those ES modules, so that the tests, the cpu
// backend and the native backend share one copy of tfjs-core; seedrandom
// comes from seedrandom.mjs.
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const packageDir = (name) => dirname(require.resolve(`${name}/package.json`));
const DISTS = ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-cpu'].map((name) => ({
  name,
  dist: join(packageDir(name), 'dist'),
}));
const distUrls = DISTS.map((d) => pathToFileURL(d.dist).href + '/');

/** The file `path` names: itself, with .js added, or its index.js; null if none. */
function withExtension(path) {
  for (const p of [path, `${path}.js`, join(path, 'index.js')]) {
    if (statSync(p, { throwIfNoEntry: false })?.isFile()) return p;
  }
  return null;
}

export async function resolve(specifier, context, next) {
  if (specifier === 'seedrandom') {
    return { url: new URL('./seedrandom.mjs', import.meta.url).href, shortCircuit: true };
  }
  for (const { name, dist } of DISTS) {
    if (specifier === name)
      return { url: pathToFileURL(join(dist, 'index.js')).href, shortCircuit: true };
    if (specifier.startsWith(`${name}/dist/`)) {
      const p = withExtension(join(dist, specifier.slice(`${name}/dist/`.length)));
      if (p !== null) return { url: pathToFileURL(p).href, shortCircuit: true };
    }
  }
  const parent = context.parentURL ?? '';
  if (specifier.startsWith('.') && distUrls.some((u) => parent.startsWith(u))) {
    const p = withExtension(new URL(specifier, parent).pathname);
    if (p !== null) return { url: pathToFileURL(p).href, shortCircuit: true };
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (url.endsWith('.js') && distUrls.some((u) => url.startsWith(u))) {
    return next(url, { ...context, format: 'module' });
  }
  return next(url, context);
}
