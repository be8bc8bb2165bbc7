// Builds the native addon with node-gyp. Never fails the install: when the
// addon cannot be built, the backend reports why at load time and callers
// fall back to wasm/cpu.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(pkg, 'binding.gyp'))) {
  process.exit(0);
}
const r = spawnSync('npx', ['--no-install', 'node-gyp', 'rebuild'], { cwd: pkg, stdio: 'inherit' });
if (r.status !== 0) {
  console.error(
    '[@zhusuan/tfjs-backend-native] native addon build failed; the wasm backend will be used. ' +
      'Install a C++ toolchain and OpenBLAS (Debian: apt-get install g++ make python3 libopenblas-dev) and run `npm run build:native`.',
  );
}
