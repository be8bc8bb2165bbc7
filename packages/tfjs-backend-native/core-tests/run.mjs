// Runs tfjs-core's own test suite against the native backend, as tfjs-node's
// src/run_tests.ts does for its backend: a backend is judged by the core's
// tests, not only its own. The @tensorflow/tfjs-core npm package ships them
// (dist/tests.js imports every dist/**/*_test.js) with its jasmine helpers
// (dist/jasmine_util.js), compiled as ES modules that loader.mjs makes
// loadable in Node. Every `describeWithFlags` suite runs once, in the test
// environment "native" (backend `native`, synchronous data).
//
//   npm install --prefix /tmp/jasmine jasmine-core@4.2.0   # tfjs' version; not a dependency here
//   npx tsc -b packages/tfjs-backend-native
//   NODE_PATH=/tmp/jasmine/node_modules node packages/tfjs-backend-native/core-tests/run.mjs \
//     [--grep TEXT] [--verbose] [--backend cpu]
//
// (--backend cpu runs the same suite on the cpu backend, for comparison.)
// Exits 1 when a test fails, 2 when jasmine-core or the addon is missing.
import { createRequire, register } from 'node:module';

register('./loader.mjs', import.meta.url);

/**
 * Tests not run, each with the reason (tfjs-node keeps such a list for its
 * backend). Empty: every test of tfjs-core 4.22 passes on native, whose
 * kernels keep the cpu backend's semantics.
 */
const IGNORE_LIST = [];

const args = process.argv.slice(2);
const grep = args.includes('--grep') ? args[args.indexOf('--grep') + 1] : null;
const verbose = args.includes('--verbose');
const backend = args.includes('--backend') ? args[args.indexOf('--backend') + 1] : 'native';

const require = createRequire(import.meta.url);
let jasmineRequire;
try {
  jasmineRequire = require('jasmine-core/lib/jasmine-core/jasmine.js');
} catch {
  console.error(
    'core-tests: jasmine-core is not installed where Node looks. Install it outside the ' +
      'repository (`npm install --prefix /tmp/jasmine jasmine-core@4.2.0`, the version tfjs ' +
      'tests with) and rerun with NODE_PATH=/tmp/jasmine/node_modules.',
  );
  process.exit(2);
}
// jasmine_util.js calls require() (tfjs compiles it for CommonJS too).
globalThis.require = require;
const jasmine = jasmineRequire.core(jasmineRequire);
const env = jasmine.getEnv();
Object.assign(globalThis, jasmineRequire.interface(jasmine, env));

await import('@tensorflow/tfjs-core');
await import('@tensorflow/tfjs-core/dist/register_all_gradients');
await import('@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops');
await import('@tensorflow/tfjs-backend-cpu');
const { registerNativeBackend, nativeLoadError } = await import('../dist/src/index.js');
if (!registerNativeBackend()) {
  console.error(`core-tests: native backend unavailable: ${nativeLoadError()}`);
  process.exit(2);
}
const jasmineUtil = await import('@tensorflow/tfjs-core/dist/jasmine_util');
jasmineUtil.setTestEnvs([{ name: backend, backendName: backend, flags: {}, isDataSync: true }]);
await import('@tensorflow/tfjs-core/dist/tests');

env.configure({
  random: false,
  specFilter: (spec) => {
    const name = spec.getFullName();
    return (grep === null || name.includes(grep)) && !IGNORE_LIST.some((s) => name.includes(s));
  },
});
const counts = { passed: 0, failed: 0, pending: 0, excluded: 0 };
const failures = [];
env.addReporter({
  specDone(result) {
    counts[result.status in counts ? result.status : 'pending']++;
    if (result.status === 'failed') {
      failures.push(
        `${result.fullName}\n    ${result.failedExpectations.map((e) => e.message).join('\n    ')}`,
      );
    } else if (verbose && result.status === 'passed') {
      console.log(`ok ${result.fullName}`);
    }
  },
});
const result = await env.execute();
for (const f of failures) console.log(`FAILED ${f}`);
console.log(
  `tfjs-core tests on ${backend}: ${counts.passed} passed, ${counts.failed} failed, ` +
    `${counts.pending} pending, ${counts.excluded} excluded (${IGNORE_LIST.length} ignore-list entries)`,
);
process.exit(result.overallStatus === 'passed' ? 0 : 1);
