/**
 * `@zhusuan/vae`: the homework's VAE defined once (its layers, generative
 * model and variational posterior, built from a layer factory) and the run
 * directory's format, for the command line and the viewer alike. Imports
 * nothing from Node.
 */
export {
  OBJECTIVES,
  Vae,
  denseApply,
  savedWeightLayers,
  shapeFromWeights,
  vaeLayers,
  type Activation,
  type Layer,
  type LayerFactory,
  type LayerSpec,
  type NamedWeight,
  type Objective,
  type VaeShape,
} from './model.js';
export {
  RUN_FILES,
  RUN_LIMITS,
  RunFormatError,
  TEST_BINARIZATION_SEED,
  checkMetrics,
  formatMetricsLine,
  parseEvalReport,
  parseMetrics,
  parseMetricsLine,
  parseRunConfig,
  runSizeProblem,
  tempFileOwner,
  vaeParameterCount,
  type EpochMetrics,
  type EvalReport,
  type EvalResult,
  type EvalSplit,
  type RunConfig,
  type RunResume,
} from './run_format.js';
