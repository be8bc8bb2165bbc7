/**
 * A program that imports `@tensorflow/tfjs-core` and a backend but not
 * `@tensorflow/tfjs` has no gradients registered: HMC and the SG-MCMC samplers
 * then say so and name the import, instead of blaming the first kernel
 * without a gradient. Runs in a child process (this process imported the
 * union package, which registers them), so the browser suite leaves it out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const index = pathToFileURL(fileURLToPath(new URL('../../src/index.js', import.meta.url))).href;

test('without registered gradients, HMC and SGLD name the import that registers them', () => {
  const script = `
    import * as tf from '@tensorflow/tfjs-core';
    import '@tensorflow/tfjs-backend-cpu';
    const zs = await import(${JSON.stringify(index)});
    await tf.setBackend('cpu');
    const target = (v) => tf.mul(tf.sum(tf.square(v.z), -1), -0.5);
    const out = [];
    for (const sampler of [new zs.HMC({ stepSize: 0.1, nLeapfrogs: 2 }), new zs.SGLD({ learningRate: 0.1 })]) {
      const z = tf.variable(tf.zeros([2, 3]));
      try { sampler.step(target, {}, { z }); out.push('no error'); }
      catch (e) { out.push(String(e.message)); }
    }
    process.stdout.write(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    cwd: fileURLToPath(new URL('.', import.meta.url)),
  });
  assert.equal(r.status, 0, `child failed: ${r.stderr}`);
  const [hmc, sgld] = JSON.parse(r.stdout) as string[];
  for (const [name, msg] of [
    ['HMC.step', hmc],
    ['SGLD.step', sgld],
  ]) {
    assert.match(
      msg,
      new RegExp(`^${name.replace('.', '\\.')}: cannot differentiate the log density`),
    );
    assert.match(msg, /no tfjs gradients are registered/);
    assert.match(msg, /import '@tensorflow\/tfjs' once in the program/);
    assert.doesNotMatch(msg, /comparisons/);
  }
});
