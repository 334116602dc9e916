/**
 * The task a broker operation runs for, and whether it still waits for the
 * answer. A module gives up when it hears nothing from the broker (not even a
 * heartbeat) for its patience, or it goes away; from then on nothing may be
 * sent to a server on its behalf: a tool call the task reported as failed
 * must not run later.
 *
 * The broker runs each operation inside its WaitingTask, an AsyncLocalStorage
 * scope, so the MCP session finds it before each request without every
 * function on the way passing it along. Outside the broker there is none.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { monotonicMs } from './broker_protocol';
import { ModuleFailure } from './errors';

/** The task gave up; thrown in the broker, where only the log sees it. */
export class TaskGaveUp extends ModuleFailure {}

const scope = new AsyncLocalStorage<WaitingTask>();

export class WaitingTask {
  private readonly controller = new AbortController();

  /** `giveUpAt`: monotonicMs() after which the module has stopped waiting, unless it hears from us. */
  constructor(private giveUpAt = Infinity) {}

  /** The task the current operation runs for, if any. */
  static current(): WaitingTask | undefined {
    return scope.getStore();
  }

  run<T>(fn: () => T): T {
    return scope.run(this, fn);
  }

  /** Work several tasks share (a cached tool list) must not fail because one of them gave up. */
  static shared<T>(fn: () => T): T {
    return scope.exit(fn);
  }

  /** The module heard from us (a heartbeat): it waits `patienceMs` longer. */
  heard(patienceMs: number): void {
    if (this.stillWaiting()) this.giveUpAt = monotonicMs() + patienceMs;
  }

  giveUp(reason: string): void {
    if (!this.controller.signal.aborted) this.controller.abort(new TaskGaveUp(reason));
  }

  /**
   * Aborted once the task gave up (requests in flight are cancelled). Each
   * request gets its own signal: listeners on one long-lived signal would pile up.
   */
  requestSignal(): AbortSignal {
    return AbortSignal.any([this.controller.signal]);
  }

  /**
   * Throws TaskGaveUp once the task no longer waits. Reads the clock too:
   * right after the broker was frozen, no timer has fired yet to say so.
   */
  ensureWaiting(): void {
    if (!this.stillWaiting()) throw this.controller.signal.reason;
  }

  stillWaiting(): boolean {
    if (monotonicMs() > this.giveUpAt) this.giveUp('the module stopped waiting: it heard nothing from the broker for longer than its patience');
    return !this.controller.signal.aborted;
  }
}
