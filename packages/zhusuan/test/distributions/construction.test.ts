/**
 * Every family's constructor: a rejected construction (a bad shape, or a bad
 * value under validateArgs) throws naming the family and leaks no tensor,
 * whether the parameters were plain numbers (converted by the constructor) or
 * the caller's tensors (left to the caller).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import * as zs from '../../src/index.js';
import { Multinomial, UnnormalizedMultinomial } from '../../src/distributions/multinomial.js';
import { MultivariateNormalCholesky } from '../../src/distributions/multivariate_normal.js';
import { BinConcrete } from '../../src/distributions/bin_concrete.js';
import { Concrete, ExpConcrete } from '../../src/distributions/concrete.js';
import { useCpu } from '../helpers.js';

before(useCpu);

const V = { validateArgs: true };

// [what, construct, the error it must throw]
const CASES: [string, () => unknown, RegExp][] = [
  ['Normal std', () => new zs.Normal({ mean: 0, std: -1, ...V }), /Normal: `std` must be positive/],
  [
    'Bernoulli probs',
    () => new zs.Bernoulli({ probs: 2, ...V }),
    /Bernoulli: `probs` must lie in \[0, 1\]/,
  ],
  [
    'Uniform interval',
    () => new zs.Uniform({ minval: 1, maxval: 0, ...V }),
    /Uniform: `minval` must be less than `maxval`/,
  ],
  [
    'Laplace scale',
    () => new zs.Laplace({ loc: 0, scale: -1, ...V }),
    /Laplace: `scale` must be positive/,
  ],
  [
    'FoldNormal std',
    () => new zs.FoldNormal({ mean: 0, std: 0, ...V }),
    /FoldNormal: `std` must be positive/,
  ],
  [
    'Gamma alpha',
    () => new zs.Gamma({ alpha: -1, beta: 1, ...V }),
    /Gamma: `alpha` must be positive/,
  ],
  ['Beta beta', () => new zs.Beta({ alpha: 1, beta: 0, ...V }), /Beta: `beta` must be positive/],
  [
    'InverseGamma alpha',
    () => new zs.InverseGamma({ alpha: 0, beta: 1, ...V }),
    /InverseGamma: `alpha` must be positive/,
  ],
  [
    'Dirichlet rank',
    () => new zs.Dirichlet({ alpha: 2 }),
    /Dirichlet: `alpha` must have rank at least 1/,
  ],
  [
    'Categorical rank',
    () => new zs.Categorical({ logits: 1 }),
    /Categorical: `logits` must have rank at least 1/,
  ],
  [
    'OnehotCategorical rank',
    () => new zs.OnehotCategorical({ probs: 0.5 }),
    /OnehotCategorical: `probs` must have rank at least 1/,
  ],
  ['Poisson rate', () => new zs.Poisson({ rate: -1, ...V }), /Poisson: `rate`/],
  [
    'Binomial probs',
    () => new zs.Binomial({ probs: 2, nTrials: 3, ...V }),
    /Binomial: `probs` must lie in \[0, 1\]/,
  ],
  [
    'Binomial nTrials',
    () => new zs.Binomial({ probs: 0.5, nTrials: 2.5 }),
    /Binomial: `nTrials` must be a positive integer/,
  ],
  [
    'MultivariateNormalCholesky mean rank',
    () => new MultivariateNormalCholesky({ mean: 0, cholTril: 1 }),
    /MultivariateNormalCholesky: `mean` must have rank at least 1/,
  ],
  [
    // The caller's tensors are made and freed inside the row: the count checks the constructor alone.
    'MultivariateNormalCholesky diagonal',
    () => {
      const mean = tf.zeros([2]);
      const cholTril = tf.tensor2d([
        [1, 0],
        [0.5, -1],
      ]);
      try {
        return new MultivariateNormalCholesky({ mean, cholTril, ...V });
      } finally {
        tf.dispose([mean, cholTril]);
      }
    },
    /MultivariateNormalCholesky: the diagonal of `cholTril` must be positive/,
  ],
  [
    'Multinomial probs rank',
    () => new Multinomial({ probs: 0.5, nTrials: 3 }),
    /Multinomial: `probs` must have rank at least 1/,
  ],
  [
    // A plain-number nTrials next to bad probs (the caller's, freed inside the row).
    'Multinomial probs',
    () => {
      const probs = tf.tensor1d([0.5, -0.5]);
      try {
        return new Multinomial({ probs, nTrials: 3, ...V });
      } finally {
        probs.dispose();
      }
    },
    /Multinomial: `probs` must be finite and non-negative/,
  ],
  [
    'UnnormalizedMultinomial logits rank',
    () => new UnnormalizedMultinomial({ logits: 1 }),
    /UnnormalizedMultinomial: `logits` must have rank at least 1/,
  ],
  [
    // A plain-number temperature next to the caller's logits (freed inside the row).
    'Concrete temperature',
    () => {
      const logits = tf.tensor1d([0.5, -0.5]);
      try {
        return new Concrete({ temperature: 0, logits, ...V });
      } finally {
        logits.dispose();
      }
    },
    /Concrete: `temperature` must be positive/,
  ],
  [
    'ExpConcrete logits rank',
    () => new ExpConcrete({ temperature: 0.5, logits: 1 }),
    /ExpConcrete: `logits` must have rank at least 1/,
  ],
  [
    'BinConcrete temperature',
    () => new BinConcrete({ temperature: -1, logits: 0, ...V }),
    /BinConcrete: `temperature` must be positive/,
  ],
];

test('a rejected construction from plain numbers throws and leaks nothing', () => {
  for (const [what, make, error] of CASES) {
    const before = tf.memory().numTensors;
    assert.throws(make, error, what);
    assert.equal(tf.memory().numTensors, before, `${what}: leaked tensors`);
  }
});

test("a rejected construction from the caller's tensors leaves them to the caller", () => {
  const a = tf.ones([2]);
  const b = tf.ones([3]);
  const neg = tf.tensor([1, -1]);
  const cases: [string, () => unknown, RegExp][] = [
    [
      'Gamma shapes',
      () => new zs.Gamma({ alpha: a, beta: b }),
      /Gamma: shapes of `alpha` \[2\] and `beta` \[3\]/,
    ],
    [
      'Binomial shapes',
      () => new zs.Binomial({ probs: a, nTrials: b }),
      /Binomial: shapes of `probs` \[2\] and `nTrials` \[3\]/,
    ],
    [
      'Dirichlet alpha',
      () => new zs.Dirichlet({ alpha: neg, ...V }),
      /Dirichlet: `alpha` must be positive/,
    ],
    [
      'Normal std',
      () => new zs.Normal({ mean: a, std: neg, ...V }),
      /Normal: `std` must be positive/,
    ],
  ];
  for (const [what, make, error] of cases) {
    const before = tf.memory().numTensors;
    assert.throws(make, error, what);
    assert.equal(tf.memory().numTensors, before, `${what}: leaked tensors`);
    assert.equal(
      a.isDisposed || b.isDisposed || neg.isDisposed,
      false,
      `${what} disposed the caller's tensor`,
    );
  }
});
