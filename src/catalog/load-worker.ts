/**
 * A bulk-load worker thread: receives `{ id, inputs }` chunks, answers `{ id, outcomes }` (or
 * `{ id, error }` for a programming error) in the order received. See load-step.ts for the step.
 */
import { parentPort } from 'node:worker_threads';
import { runLoadStep, transferList, type RawInput, type RowFormat } from './load-step.js';

parentPort?.on('message', (msg: { id: number; inputs: RawInput[]; format: RowFormat }) => {
  try {
    const outcomes = runLoadStep(msg.inputs, msg.format);
    parentPort!.postMessage({ id: msg.id, outcomes }, transferList(outcomes));
  } catch (e) {
    parentPort!.postMessage({ id: msg.id, error: e instanceof Error ? e.message : String(e) });
  }
});
