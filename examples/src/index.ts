/** The zoo: every example, by name. */
import type { ExampleDefinition } from './common/run.js';
import { toyGaussian } from './toy_gaussian.js';

/** Every example, in the order examples/README.md lists them. */
export const EXAMPLES: ExampleDefinition[] = [toyGaussian];
