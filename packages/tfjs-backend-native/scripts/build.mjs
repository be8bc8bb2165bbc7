// Builds the native addon with node-gyp. Never fails the install: when the
// addon cannot be built, the backend reports why at load time and callers
// fall back to wasm/cpu.
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(pkg, 'binding.gyp'))) {
  process.exit(0);
}
const args = ['--no-install', 'node-gyp', 'rebuild'];
// Use the headers installed with this Node (e.g. Debian's /usr/include/node)
// instead of downloading them: there may be no network at install time.
if (!process.env.npm_config_nodedir) {
  const prefix = resolve(dirname(process.execPath), '..');
  if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) {
    args.push(`--nodedir=${prefix}`);
  }
}
const r = spawnSync('npx', args, { cwd: pkg, stdio: 'inherit' });
if (r.status !== 0) {
  console.error(
    '[@zhusuan/tfjs-backend-native] native addon build failed; the wasm backend will be used. ' +
      'Install a C++ toolchain and OpenBLAS (Debian: apt-get install g++ make python3 libopenblas-dev) and run `npm run build:native`.',
  );
}
