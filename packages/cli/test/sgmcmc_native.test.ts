/**
 * The library's SG-MCMC samplers on `native`, where the backend registers
 * the fused `ZsSgmcmcUpdate` kernel: every sampler (SGLD, PSGLD, SGHMC and
 * SGNHT, first and second order, SGNHT with vector and scalar friction,
 * with momentum resampling) gives bit for bit the same chains and the same
 * reported stats with and without the kernel, for scalar, vector and matrix
 * latents side by side; the same chains as `cpu` exactly where the update
 * uses only +, −, ×, ÷ and √ (the means and SGNHT's second-order e^x round
 * differently on the two backends, so there within 1e-5 relative); the
 * kernel replaces the update's and the finiteness check's kernels; nothing
 * leaks; and the kernel refuses bad attributes by name.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as zs from 'zhusuan';
import { loadNative, useBackend } from '../src/backend.js';
import { lcgValues as values, withoutKernel } from './helpers.js';

const KERNEL = zs.OPTIONAL_KERNELS.sgmcmcUpdate;

before(async () => {
  const status = await loadNative();
  assert.ok(status.available, `native addon unavailable: ${status.reason}`);
});

/** Latents of every rank: a scalar, a vector and a matrix, sampled together. */
const SHAPES: Record<string, number[]> = { s: [], v: [7], m: [40, 30] };
const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * A Gaussian log density, −½ Σ prec·(z − 0.3)² per latent: its gradient is
 * element-wise products, the same numbers on every backend.
 */
function target(v: Record<string, tf.Tensor>): tf.Tensor {
  const terms = Object.keys(SHAPES).map((name, i) => {
    const shape = SHAPES[name];
    const prec = tf.tensor(values(size(shape), 100 + i, 0.5, 2), shape);
    return tf.sum(tf.mul(tf.square(tf.sub(v[name], 0.3)), prec));
  });
  return tf.mul(tf.addN(terms), -0.5);
}

interface Chain {
  /** The latents' values after every step, flattened. */
  states: number[][];
  /** Every step's info, flattened to numbers (logProb, then meanK and alpha by latent). */
  infos: number[][];
}

/** Runs `steps` steps of a fresh sampler from fixed starting values; checks it leaks nothing. */
function run(make: () => zs.SGMCMC, steps: number): Chain {
  zs.random.setSeed(11);
  const before = tf.memory().numTensors;
  const latent: Record<string, tf.Variable> = {};
  Object.entries(SHAPES).forEach(([name, shape], i) => {
    const init = tf.tensor(values(size(shape), i + 1, -1, 1), shape);
    latent[name] = tf.variable(init, false);
    init.dispose();
  });
  const sampler = make();
  const chain: Chain = { states: [], infos: [] };
  for (let t = 0; t < steps; t++) {
    const info = sampler.step(target, {}, latent) as zs.SgmcmcInfo & Partial<zs.SgnhtInfo>;
    const info2 = [info.logProb];
    for (const name of Object.keys(SHAPES)) {
      if (info.meanK !== undefined) info2.push(info.meanK[name]);
      if (info.alpha !== undefined) info2.push(info.alpha[name]);
    }
    chain.infos.push(info2);
    chain.states.push(Object.values(latent).flatMap((x) => Array.from(x.dataSync())));
  }
  sampler.dispose();
  tf.dispose(Object.values(latent));
  assert.equal(tf.memory().numTensors, before, 'the run leaked tensors');
  return chain;
}

/** The samplers, and whether their chains are the same numbers on cpu. */
const SAMPLERS: Array<[string, () => zs.SGMCMC, boolean]> = [
  ['SGLD', () => new zs.SGLD({ learningRate: 0.02 }), true],
  ['PSGLD', () => new zs.PSGLD({ learningRate: 0.02, decay: 0.8, epsilon: 1e-3 }), true],
  ...[false, true].map((secondOrder): [string, () => zs.SGMCMC, boolean] => [
    `SGHMC ${secondOrder ? 'second' : 'first'} order`,
    () =>
      new zs.SGHMC({
        learningRate: 0.01,
        friction: 0.3,
        varianceEstimate: 0.05,
        nIterResampleV: 3,
        secondOrder,
      }),
    true,
  ]),
  ...[false, true].flatMap((secondOrder) =>
    [true, false].map((useVectorAlpha): [string, () => zs.SGMCMC, boolean] => [
      `SGNHT ${secondOrder ? 'second' : 'first'} order, ${useVectorAlpha ? 'vector' : 'scalar'} alpha`,
      () =>
        new zs.SGNHT({
          learningRate: 0.01,
          varianceExtra: 0.1,
          tuneRate: 2,
          nIterResampleV: 3,
          secondOrder,
          useVectorAlpha,
        }),
      // The scalar friction follows the mean; the second order takes e^x.
      !secondOrder && useVectorAlpha,
    ]),
  ),
];

/** Index and values of the first difference, or null. */
function firstDifference(a: number[][], b: number[][]): string | null {
  for (let t = 0; t < a.length; t++) {
    for (let i = 0; i < a[t].length; i++) {
      if (!Object.is(a[t][i], b[t][i])) return `step ${t} [${i}]: ${a[t][i]} vs ${b[t][i]}`;
    }
  }
  return null;
}

/** Asserts got ≈ want within 1e-5 relative + 1e-6. */
function assertNear(got: number[][], want: number[][], what: string): void {
  for (let t = 0; t < want.length; t++) {
    assert.equal(got[t].length, want[t].length, `${what} step ${t}: length`);
    for (let i = 0; i < want[t].length; i++) {
      const tol = 1e-5 * Math.abs(want[t][i]) + 1e-6;
      assert.ok(
        Math.abs(got[t][i] - want[t][i]) <= tol,
        `${what} step ${t} [${i}]: ${got[t][i]} vs ${want[t][i]}`,
      );
    }
  }
}

describe('SG-MCMC on native with ZsSgmcmcUpdate', () => {
  for (const [name, make, exactOnCpu] of SAMPLERS) {
    it(`${name}: the same chains with and without the kernel${exactOnCpu ? ', and on cpu' : ''}`, async () => {
      const steps = 7; // the momentum is resampled at steps 3 and 6
      await useBackend('native');
      const profile = await tf.profile(() => {
        run(make, 1);
      });
      const names = profile.kernels.map((k) => k.name);
      assert.equal(
        names.filter((k) => k === KERNEL).length,
        Object.keys(SHAPES).length,
        'one fused update per latent',
      );
      assert.ok(!names.includes('IsFinite'), 'the kernel checks finiteness');
      const fused = run(make, steps);
      const composite = withoutKernel(KERNEL, () => run(make, steps));
      assert.equal(firstDifference(fused.states, composite.states), null, 'states');
      assert.equal(firstDifference(fused.infos, composite.infos), null, 'infos');
      await useBackend('cpu');
      const cpu = run(make, steps);
      await useBackend('native');
      if (exactOnCpu) {
        assert.equal(firstDifference(fused.states, cpu.states), null, 'states on cpu');
      } else {
        assertNear(fused.states, cpu.states, 'states on cpu');
      }
      assertNear(fused.infos, cpu.infos, 'infos on cpu');
    });
  }
});

describe('ZsSgmcmcUpdate', () => {
  /** Runs the kernel on native (inputs of shape [3], attributes given). */
  function call(attrs: object, alphaShape = [3]): void {
    tf.tidy(() => {
      const x = tf.ones([3]);
      const inputs = { q: x, grad: x, noise: x, v: x, alpha: tf.zeros(alphaShape) };
      tf.engine().runKernel(KERNEL, inputs, attrs as tf.NamedAttrMap);
    });
  }

  it('refuses an unknown kind, a missing constant and a friction of another shape, by name', async () => {
    await useBackend('native');
    assert.throws(() => call({ kind: 'sgd' }), /ZsSgmcmcUpdate: kind must be one of sgld, psgld/);
    assert.throws(
      () => call({ kind: 'sghmc', learningRate: 0.1 }),
      /ZsSgmcmcUpdate: attribute momentumScale must be a number for kind sghmc/,
    );
    assert.throws(
      () => call({ kind: 'sgnht', learningRate: 0.1, tuneScale: 1 }, [2]),
      /ZsSgmcmcUpdate: alpha has shape \[2\], expected the latent's or a scalar/,
    );
  });

  it('flags a non-finite update and leaves nothing behind', async () => {
    await useBackend('native');
    const before = tf.memory().numTensors;
    const out = tf.tidy(() => {
      const x = tf.tensor([1, 2, 3]);
      const g = tf.tensor([0, Infinity, 0]);
      const [q, check] = tf.engine().runKernel(KERNEL, { q: x, grad: g, noise: tf.zeros([3]) }, {
        kind: 'sgld',
        gradScale: 0.5,
      } as unknown as tf.NamedAttrMap) as tf.Tensor[];
      return [Array.from(q.dataSync()), Array.from(check.dataSync())];
    });
    assert.deepEqual(out, [[1, Infinity, 3], [0]]);
    assert.equal(tf.memory().numTensors, before);
  });
});
