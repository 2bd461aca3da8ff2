/**
 * A bulk-load worker thread: receives `{ id, inputs }` chunks, answers `{ id, outcomes }` (or
 * `{ id, error }` for a programming error) in the order received. See load-step.ts for the step.
 */
import { parentPort } from 'node:worker_threads';
import { runLoadStep, type RawInput } from './load-step.js';

parentPort?.on('message', (msg: { id: number; inputs: RawInput[] }) => {
  try {
    parentPort!.postMessage({ id: msg.id, outcomes: runLoadStep(msg.inputs) });
  } catch (e) {
    parentPort!.postMessage({ id: msg.id, error: e instanceof Error ? e.message : String(e) });
  }
});
