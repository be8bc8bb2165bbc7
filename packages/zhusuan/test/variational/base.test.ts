/**
 * What every objective shares: the nets it exposes (`.bn`, `.variational`),
 * latents given as samples with their log q, `dispose()`, and the errors of
 * its options.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as zs from '../../src/index.js';
import { assertClose, normalLogPdf, useCpu } from '../helpers.js';

before(useCpu);

/** A BNN-like regression: w ~ N(0, 1) ([1] per sample); y_mean = w·x a deterministic node. */
const X = [0.5, -1, 2];
const model = zs.metaBayesianNet((bn: zs.BayesianNet) => {
  const w = bn.normal('w', tf.zeros([1]), { std: 1, groupNdims: 1 });
  const yMean = bn.deterministic('y_mean', tf.mul(w, tf.tensor1d(X)));
  bn.normal('y', yMean, { std: 0.5, groupNdims: 1 });
});

function q(samples?: number[]): zs.BayesianNet {
  const bn = new zs.BayesianNet(samples ? { w: tf.tensor2d(samples.map((v) => [v])) } : {});
  bn.normal('w', tf.tensor1d([0.4]), { std: 0.3, groupNdims: 1, nSamples: samples?.length ?? 4 });
  return bn;
}

const y = tf.tensor1d([0.2, -0.6, 1.1]);

test("objectives expose the model net they built (ZhuSuan's .bn) and q (.variational)", () => {
  const ws = [0.1, 0.5, -0.2];
  const variational = q(ws);
  const objectives = [
    zs.elbo(model, { y }, { variational, axis: 0 }),
    zs.importanceWeightedObjective(model, { y }, { variational, axis: 0 }),
    zs.klpq(model, { y }, { variational, axis: 0 }),
  ];
  for (const o of objectives) {
    assert.equal(o.variational, variational);
    assert.deepEqual(o.latentNames, ['w']);
    // Predictions under q's samples: y_mean = w x, one row per sample.
    assertClose(
      o.bn.get('y_mean').dataSync(),
      ws.flatMap((w) => X.map((x) => w * x)),
      1e-6,
      1e-6,
      'y_mean',
    );
    assert.equal(o.bn.node('y').isObserved, true);
    // The net stays usable: its distributions score other values.
    const lp = o.bn.node('y').dist.logProb(tf.zerosLike(y));
    assertClose(
      lp.dataSync(),
      ws.map((w) => X.reduce((a, x) => a + normalLogPdf(0, w * x, 0.5), 0)),
      1e-5,
      1e-5,
      'logProb',
    );
    lp.dispose();
  }
  objectives.forEach((o) => o.dispose());
});

test('dispose() frees what the objective made and nothing else; an objective in tf.tidy leaks nothing', () => {
  const variational = q();
  const qTensors = variational.getMany(['w']);
  const before = tf.memory().numTensors;
  for (const make of [
    () => zs.elbo(model, { y }, { variational, axis: 0 }),
    () => zs.importanceWeightedObjective(model, { y }, { variational, axis: 0 }),
    () => zs.klpq(model, { y }, { variational, axis: 0 }),
  ]) {
    const o = make();
    assert.ok(tf.memory().numTensors > before);
    o.dispose();
    assert.equal(tf.memory().numTensors, before, 'dispose() left tensors');
    o.dispose(); // twice is harmless
  }
  // q's samples and the observations are the caller's: still alive.
  assert.equal(qTensors[0].isDisposed, false);
  assert.equal(y.isDisposed, false);
  // A score-function estimator on a reparameterised q builds the model again; dispose() frees that too.
  const lb = zs.elbo(model, { y }, { variational, axis: 0 });
  lb.reinforce().dispose();
  const iw = zs.importanceWeightedObjective(model, { y }, { variational, axis: 0 });
  iw.vimco().dispose();
  lb.dispose();
  iw.dispose();
  assert.equal(tf.memory().numTensors, before, 'the second build leaked');
  tf.tidy(() => {
    const o = zs.elbo(model, { y }, { variational, axis: 0 });
    o.sgvb();
    o.reinforce();
  });
  assert.equal(tf.memory().numTensors, before, 'tidy leaked');
});

test('latent: samples with their log q replace the variational net', () => {
  const ws = [0.1, 0.5, -0.2, 0.9];
  const samples = tf.tensor2d(ws.map((v) => [v]));
  const logQ = tf.tensor1d(ws.map((v) => normalLogPdf(v, 0.4, 0.3)));
  const fromNet = zs.elbo(model, { y }, { variational: q(ws), axis: 0 });
  const fromLatent = zs.elbo(model, { y }, { latent: { w: [samples, logQ] }, axis: 0 });
  assert.equal(fromLatent.variational, undefined);
  assertClose(fromLatent.tensor.dataSync(), fromNet.tensor.dataSync(), 1e-6, 1e-6, 'elbo');
  const iwNet = zs.importanceWeightedObjective(model, { y }, { variational: q(ws), axis: 0 });
  const iwLatent = zs.importanceWeightedObjective(
    model,
    { y },
    {
      latent: { w: [samples, logQ] },
      axis: 0,
    },
  );
  assertClose(iwLatent.tensor.dataSync(), iwNet.tensor.dataSync(), 1e-6, 1e-6, 'iw');
  // The given log q carries the gradient to its parameters (here: a shift of log q).
  const [g] = tf.grads((shift: tf.Tensor) =>
    tf.sum(
      zs.elbo(model, { y }, { latent: { w: [samples, tf.add(logQ, shift)] }, axis: 0 }).sgvb(),
    ),
  )([tf.scalar(0)]);
  assertClose(g.dataSync(), [1], 1e-6, 1e-6, 'd(−elbo)/d shift');
});

test('objective options: errors name the option at fault', () => {
  const latent = { w: [tf.zeros([2, 1]), tf.zeros([2])] as zs.LatentSample };
  assert.throws(
    () => zs.elbo(model, { y }, { variational: q(), latent, axis: 0 }),
    /elbo: give either `variational` or `latent`, not both/,
  );
  assert.throws(
    () => zs.elbo(model, { y }, {} as zs.VariationalOptions),
    /elbo: the `variational` net is required \(or `latent`/,
  );
  assert.throws(
    () => zs.elbo(model, { y }, { variational: {} as zs.BayesianNet }),
    /elbo: `variational` must be a BayesianNet/,
  );
  assert.throws(
    () => zs.elbo(model, { y }, { latent: { w: [tf.zeros([1])] as never } }),
    /elbo: `latent` 'w' must be \[samples, logQ\], two tf\.Tensors/,
  );
  assert.throws(
    () => zs.elbo(model, { y }, { latent: { v: latent.w } }),
    /elbo: latent 'v' given in `latent` is not a stochastic node of the model/,
  );
  assert.throws(
    () => zs.elbo(model, { y, w: tf.zeros([1]) }, { latent }),
    /elbo: 'w' is both observed and in `latent`/,
  );
  assert.throws(
    () => zs.isLoglikelihood(model, { y }, { proposal: 3 as never, axis: 0 }),
    /isLoglikelihood: `proposal` must be a BayesianNet, a MetaBayesianNet or a function/,
  );
  assert.throws(
    () => zs.isLoglikelihood(model, { y }, { axis: 0 }),
    /isLoglikelihood: the `proposal` net is required/,
  );
});
