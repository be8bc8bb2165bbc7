/**
 * The app layer of zhusuan-ts as a library: data loading, PNG grids, the VAE
 * and its training/evaluation drivers — what the notebook and scripts use.
 */
export * from './data/index.js';
export * from './image/index.js';
export { Rng } from './rng.js';
export { Vae, Dense, type VaeShape } from './vae/model.js';
export {
  TrainingState,
  trainEpochs,
  readMetrics,
  learningRateAt,
  binarizeBatch,
  OBJECTIVES,
  type Objective,
  type TrainConfig,
  type TrainData,
  type EpochMetrics,
  type TrainHooks,
} from './vae/trainer.js';
export {
  evaluate,
  logImportanceWeights,
  type EvalResult,
  type EvalOptions,
} from './vae/evaluate.js';
export { useBackend, loadNative, BACKEND_CHOICES, type BackendChoice } from './backend.js';
export { main } from './main.js';
