/**
 * The binarised images a run is evaluated on and shown with: the test set
 * binarised once with the run format's fixed seed, the run's validation
 * split, or training images where a dataset has no test files.
 */
import { TEST_BINARIZATION_SEED, type EvalSplit, type RunConfig } from '@zhusuan/vae';
import { UsageError } from '../args.js';
import { hasSplit, loadDataset } from './mnist.js';
import { binarizeOnce, toFloat, trainValidSplit } from './transforms.js';

/** Binarised images with their shape (rows × cols pixels each, from the IDX header). */
export interface ImageSet {
  x: Float32Array;
  n: number;
  rows: number;
  cols: number;
}

/**
 * The binarised images of `split` for a run's model, at most `limit`: the
 * test set binarised with `TEST_BINARIZATION_SEED`, or the run's validation
 * images as training held them out and binarised them.
 * @throws UsageError for `valid` when the run has no validation split; Error
 *   when the images do not have the model's pixel count.
 */
export function evaluationImages(
  cfg: Pick<RunConfig, 'dataset' | 'xDim' | 'validation' | 'seed'>,
  split: EvalSplit,
  runDir: string,
  limit?: number,
): ImageSet {
  const data = loadDataset(cfg.dataset, { split: split === 'valid' ? 'train' : 'test' });
  const { rows, cols } = data;
  const xDim = rows * cols;
  if (xDim !== cfg.xDim) {
    throw new Error(
      `${cfg.dataset}: ${split === 'valid' ? 'training' : 'test'} images have ${xDim} pixels, the model expects ${cfg.xDim}`,
    );
  }
  if (split === 'valid') {
    if (cfg.validation === 0) {
      throw new UsageError(
        `--split valid: ${runDir} was trained without --validation, so it has no validation images`,
      );
    }
    const valid = trainValidSplit(data.images, data.n, xDim, cfg.validation, cfg.seed).valid!;
    const n = Math.min(limit ?? valid.n, valid.n);
    return { x: valid.x.subarray(0, n * xDim), n, rows, cols };
  }
  const n = Math.min(limit ?? data.n, data.n);
  const x = binarizeOnce(toFloat(data.images.subarray(0, n * xDim)), TEST_BINARIZATION_SEED);
  return { x, n, rows, cols };
}

/**
 * The first `max` images to show a run's model (`sample`, `serve`): test
 * images binarised as evaluation binarises them, or training images when the
 * dataset has no test files.
 */
export function viewingImages(
  dataset: string,
  max: number,
): ImageSet & { split: 'test' | 'train' } {
  const split = hasSplit(dataset, 'test') ? 'test' : 'train';
  const data = loadDataset(dataset, { split });
  const n = Math.min(max, data.n);
  const size = data.rows * data.cols;
  const x = binarizeOnce(toFloat(data.images.subarray(0, n * size)), TEST_BINARIZATION_SEED);
  return { x, n, split, rows: data.rows, cols: data.cols };
}
