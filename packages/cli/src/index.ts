/**
 * The app layer of zhusuan-ts as a library: data loading, PNG grids, the VAE
 * and its training/evaluation drivers — what the notebook and scripts use.
 */
export * from './data/index.js';
export * from './image/index.js';
export { Rng } from './rng.js';
export { trainableLayers, trainableVae } from './vae/layers.js';
export {
  TrainingState,
  trainEpochs,
  learningRateAt,
  binarizeBatch,
  type TrainData,
  type TrainHooks,
} from './vae/trainer.js';
export * from './run/files.js';
export {
  evaluate,
  evaluateModel,
  logImportanceWeights,
  vaeIsModel,
  type EvalOptions,
  type IsModel,
} from './vae/evaluate.js';
export { makeAdam, prepareOptimizers, type AdamLike, type AdamSettings } from './vae/optimizer.js';
export { useBackend, loadNative, BACKEND_CHOICES, type BackendChoice } from './backend.js';
export { main } from './main.js';
export {
  blockPlan,
  plannedSteps,
  type TorchArray,
  type TorchInputs,
  type ZooBenchContext,
  type ZooBenchModel,
  type ZooBenchStepper,
} from './bench/zoo.js';
