// seedrandom (CommonJS) as an ES module with named exports: tfjs-core's ES
// modules use `seedrandom.alea`, which Node's import of a CommonJS module
// does not expose (loader.mjs sends their imports of seedrandom here).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const seedrandom = require(
  require.resolve('seedrandom', { paths: [require.resolve('@tensorflow/tfjs-core')] }),
);
export default seedrandom;
export const { alea, xor128, xorwow, xorshift7, xor4096, tychei } = seedrandom;
