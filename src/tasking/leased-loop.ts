/**
 * A background loop that ticks every `tickMs` while this process holds a named lease in the store
 * (the scheduler's and the webhook dispatcher's): ticks never overlap, the timer is unref'd, and
 * `stop()` waits for a tick in progress, then releases the lease so another process may take over at once.
 */
import { randomUUID } from 'node:crypto';
import type { Storage } from '../storage/types.js';

export interface LeasedLoopOptions {
  storage: Storage;
  /** Pause between the end of one tick and the start of the next, ms. */
  tickMs: number;
  /** This process's lease holder name (default: `<lease>-<random id>`). */
  instanceId?: string;
  /** Wall clock, ms (default Date.now). */
  clock?: () => number;
  log?: { warn: (obj: Record<string, unknown>, msg: string) => void };
}

export abstract class LeasedLoop {
  readonly instanceId: string;
  protected readonly clock: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = true;

  constructor(
    private readonly lease: string,
    private readonly loop: LeasedLoopOptions,
  ) {
    this.instanceId = loop.instanceId ?? `${lease}-${randomUUID()}`;
    this.clock = loop.clock ?? Date.now;
  }

  /** One round of work at wall time `now` (ms); implementations take or renew the lease themselves. */
  abstract tick(now?: number): Promise<unknown>;

  /** Starts ticking (a no-op when already started). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick()
        .catch((e: Error) => this.loop.log?.warn({ errMessage: e.message }, `${this.lease} tick failed`))
        .finally(() => this.schedule(this.loop.tickMs));
    }, delay);
    this.timer.unref();
  }

  /** Stops ticking, waits for a tick in progress and releases the lease. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.loop.storage.releaseLease(this.lease, this.instanceId).catch(() => {});
    this.onStop();
  }

  /** Hook for state to forget when stopped. */
  protected onStop(): void {}
}
