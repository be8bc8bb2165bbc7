/** Distributions: one family per file. */
export * from './base.js';
export * from './normal.js';
export * from './bernoulli.js';
