/**
 * `npm run example -- NAME [--quick] [--seed S] [--backend B] [--out-dir DIR]`:
 * runs one example of the zoo and writes its results file.
 */
import { EXAMPLES } from './index.js';
import { main } from './common/run.js';

const [name, ...rest] = process.argv.slice(2);
const def = EXAMPLES.find((e) => e.name === name);
if (def === undefined) {
  process.stderr.write(
    `usage: npm run example -- NAME [--quick] [--seed S] [--backend auto|native|wasm|cpu] [--out-dir DIR]\n` +
      `${name === undefined ? 'no example named' : `no example '${name}'`}; examples: ${EXAMPLES.map((e) => e.name).join(', ')}\n`,
  );
  process.exitCode = 2;
} else {
  main(def, rest);
}
