// Checks the C++ of the repository (the native addon's binding/ and bench/)
// against .clang-format: `clang-format --dry-run --Werror` over every .cc, .h,
// .cpp and .hpp file outside node_modules, build and dist. With --fix it
// formats them in place instead. `npm run lint` runs the check, `npm run
// format` the fix. CLANG_FORMAT names another binary (e.g. clang-format-14).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SKIP = new Set(['node_modules', '.git', 'build', 'dist', 'runs', 'results', 'report']);
const CPP = /\.(cc|h|cpp|hpp)$/;

/** The C++ files under `dir`, relative to the repository root, sorted. */
function cppFiles(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory() && !SKIP.has(e.name)) out.push(...cppFiles(join(dir, e.name)));
    else if (e.isFile() && CPP.test(e.name)) out.push(relative(root, join(dir, e.name)));
  }
  return out.sort();
}

const fix = process.argv.includes('--fix');
const bin = process.env.CLANG_FORMAT || 'clang-format';
const files = cppFiles(root);
const args = fix ? ['-i', ...files] : ['--dry-run', '--Werror', ...files];
const r = spawnSync(bin, args, { cwd: root, stdio: 'inherit' });
if (r.error?.code === 'ENOENT') {
  console.error(
    `check-cpp-format: ${bin} not found. It checks the C++ formatting (.clang-format); ` +
      'install it with `apt-get install clang-format` (scripts/install-system-deps.sh does), ' +
      'or set CLANG_FORMAT to its path.',
  );
  process.exit(1);
}
if (r.error) throw r.error;
if (r.status !== 0) {
  console.error(
    fix
      ? `check-cpp-format: ${bin} failed (exit ${r.status}).`
      : `check-cpp-format: ${files.length} C++ files checked; the ones above differ from ` +
          '.clang-format. `npm run format` rewrites them.',
  );
  process.exit(r.status ?? 1);
}
console.log(
  `check-cpp-format: ${files.length} C++ files ${fix ? 'formatted' : 'formatted as .clang-format says'}.`,
);
