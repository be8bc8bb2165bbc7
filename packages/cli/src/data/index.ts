/** Data: IDX files, MNIST-style datasets, and their transforms. */
export * from './idx.js';
export * from './mnist.js';
export * from './transforms.js';
export * from './views.js';
