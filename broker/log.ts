/**
 * The broker's log: one line per event, beside the socket, bounded in size
 * (rotated once to broker.log.1). Callers pass only safe fields: server
 * descriptions from describeServer(), never env or header values.
 */
import { appendFileSync, renameSync, statSync } from 'node:fs';

const MAX_LOG_BYTES = 1024 * 1024;

export class BrokerLog {
  private written = 0;

  constructor(readonly path: string) {
    try {
      this.written = statSync(path).size;
    } catch {
      this.written = 0;
    }
  }

  write(event: string, fields: Record<string, unknown> = {}): void {
    const line = `${new Date().toISOString()} pid=${process.pid} ${event}${Object.entries(fields)
      .map(([k, v]) => ` ${k}=${typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v ?? null)}`)
      .join('')}\n`;
    const bytes = Buffer.byteLength(line);
    try {
      if (this.written + bytes > MAX_LOG_BYTES) {
        try {
          renameSync(this.path, `${this.path}.1`);
        } catch (e: any) {
          if (e.code !== 'ENOENT') throw e; // removed by someone else: start afresh
        }
        this.written = 0;
      }
      appendFileSync(this.path, line, { mode: 0o600 });
      this.written += bytes;
    } catch {
      /* logging must never take the broker down */
    }
  }
}
