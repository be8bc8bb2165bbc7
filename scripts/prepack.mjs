// `prepack` of the publishable packages (zhusuan, @zhusuan/tfjs-backend-native):
// `npm pack` and `npm publish` run it in the package's folder. It builds the
// package (`tsc -b`, incremental: nothing to do when dist/ is fresh) and then
// removes from dist/src whatever the sources no longer produce (the output of
// a renamed or deleted source, source maps of an older configuration), so a
// tarball holds exactly the build of the sources it is packed from.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';

const pkg = process.cwd();
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-b', pkg], { stdio: 'inherit' });
if (r.status !== 0) {
  console.error(`prepack: tsc -b ${pkg} failed; nothing packed`);
  process.exit(1);
}

/** The source a file of dist/src is built from, or null for a file the build does not write. */
function sourceOf(file) {
  const m = /^(.*)\.(js|d\.ts)$/.exec(file);
  return m === null ? null : join(pkg, 'src', `${m[1]}.ts`);
}

const out = join(pkg, 'dist', 'src');
let removed = 0;
for (const entry of readdirSync(out, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile()) continue;
  const file = join(entry.parentPath ?? entry.path, entry.name);
  const src = sourceOf(relative(out, file));
  if (src === null || !existsSync(src)) {
    rmSync(file);
    removed++;
  }
}
if (removed > 0)
  console.error(`prepack: removed ${removed} file(s) from dist/src that no source builds`);
