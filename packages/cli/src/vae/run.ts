/** Opening a trained run: its config and its model restored from the checkpoint. */
import * as fs from 'node:fs';
import { readConfig, runFile } from '../run/files.js';
import { TrainingState } from './trainer.js';

/** Opens a trained run: its config and a model restored from its checkpoint. */
export async function openRun(runDir: string, backend: string): Promise<TrainingState> {
  const cfg = readConfig(runDir);
  const ck = runFile(runDir, 'checkpoint');
  if (!fs.existsSync(ck)) {
    throw new Error(`${ck} not found: the run has not completed an epoch yet`);
  }
  const state = new TrainingState(cfg, backend);
  try {
    await state.restore(ck);
  } catch (err) {
    state.dispose();
    throw err;
  }
  return state;
}
