// The package's install script (and `npm run build:native` in the
// repository): builds the Node-API addon with node-gyp against the system
// OpenBLAS. It never fails the install. Where the addon cannot be built (no
// C++ compiler, make, Python or OpenBLAS), it prints why and records the
// cause in build/install-error.txt and the whole output in build/install.log;
// the loader (src/addon.ts) puts that cause and the fix in nativeLoadError(),
// and callers fall back to another tfjs backend.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = join(pkg, 'build');
const errorFile = join(buildDir, 'install-error.txt');
const logFile = join(buildDir, 'install.log');
const NAME = '@zhusuan/tfjs-backend-native';
const FIX =
  'install a C++ compiler, make, Python 3 and OpenBLAS (Debian/Ubuntu: apt-get install g++ make ' +
  `python3 libopenblas-dev), then run \`npm rebuild ${NAME}\``;

/**
 * node-gyp's command-line script: the one npm runs install scripts with
 * (npm sets npm_config_node_gyp to it), else a node-gyp installed beside
 * this package (the repository's devDependency), else none.
 */
function nodeGypScript() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return fromNpm;
  try {
    return createRequire(join(pkg, 'package.json')).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return null;
  }
}

/**
 * The line of node-gyp's output that says what went wrong: the compiler's or
 * make's first error (a missing g++ or cblas.h, -lopenblas not found), else
 * node-gyp's own first complaint (no Python, no make).
 */
function cause(output) {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('gyp info'));
  const specific = lines.find((l) =>
    /fatal error|error:|No such file or directory|cannot find -l|not found/i.test(l),
  );
  const gyp = lines.find((l) =>
    /^gyp ERR! (?!(stack|System|command|cwd|node -v|node-gyp -v|not ok))/.test(l),
  );
  return (specific ?? gyp ?? 'node-gyp failed without a message').replace(
    /^gyp ERR! (stack )?/,
    '',
  );
}

function fail(reason, output) {
  mkdirSync(buildDir, { recursive: true });
  writeFileSync(errorFile, `${reason}\n`);
  if (output) writeFileSync(logFile, output);
  console.error(
    `[${NAME}] the native addon was not built: ${reason}. The package still works: ` +
      `registerNativeBackend() returns false and nativeLoadError() says why. To build it, ${FIX}.` +
      (output ? ` Full output: ${logFile}` : ''),
  );
  process.exit(0);
}

if (!existsSync(join(pkg, 'binding.gyp'))) process.exit(0);
rmSync(errorFile, { force: true });
const script = nodeGypScript();
if (script === null) fail('node-gyp was not found (run the install through npm)', '');

const args = [script, 'rebuild', '--jobs=max'];
// Use the headers installed with this Node (e.g. Debian's /usr/include/node)
// instead of downloading them: there may be no network at install time.
if (!process.env.npm_config_nodedir) {
  const prefix = resolve(dirname(process.execPath), '..');
  if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
}
const r = spawnSync(process.execPath, args, { cwd: pkg, encoding: 'utf8', maxBuffer: 1 << 28 });
const output = `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`;
const addon = join(buildDir, 'Release', 'zhusuan_native.node');
if (r.status !== 0 || !existsSync(addon)) fail(cause(output), output);
writeFileSync(logFile, output);
console.log(`[${NAME}] built ${addon}`);
