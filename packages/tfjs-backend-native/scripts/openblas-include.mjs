// Prints the directories holding OpenBLAS' cblas.h, one a line, for
// binding.gyp's include_dirs and bench/run.sh: what `pkg-config --cflags-only-I
// openblas` names (Debian's libopenblas-dev ships openblas.pc; PKG_CONFIG_PATH
// points pkg-config elsewhere), else the first of the usual places that has a
// cblas.h, else nothing: the compiler's own search path (a /usr/include/cblas.h)
// is then the last resort.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Include directories from pkg-config, or null when it or openblas.pc is missing. */
function fromPkgConfig() {
  const r = spawnSync('pkg-config', ['--cflags-only-I', 'openblas'], { encoding: 'utf8' });
  if (r.status !== 0 || r.stdout == null) return null;
  const dirs = r.stdout
    .split(/\s+/)
    .filter((f) => f.startsWith('-I'))
    .map((f) => f.slice(2));
  return dirs.length > 0 ? dirs : null;
}

/** The usual places of cblas.h: Debian multiarch builds, Fedora, Homebrew. */
function candidates() {
  const out = ['/usr/include/openblas'];
  let multiarch = [];
  try {
    multiarch = readdirSync('/usr/include').filter((d) => /-linux-gnu/.test(d));
  } catch {
    // No /usr/include: not a Linux system with headers there.
  }
  for (const arch of multiarch) {
    for (const flavour of ['openblas-pthread', 'openblas-openmp', 'openblas-serial']) {
      out.push(join('/usr/include', arch, flavour));
    }
  }
  out.push(
    '/usr/local/include/openblas',
    '/opt/homebrew/opt/openblas/include',
    '/usr/local/opt/openblas/include',
  );
  return out;
}

const dirs =
  fromPkgConfig() ??
  candidates()
    .filter((d) => existsSync(join(d, 'cblas.h')))
    .slice(0, 1);
for (const d of dirs) console.log(d);
