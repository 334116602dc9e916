/**
 * Reports (JUnit, SARIF, pin files) are read by CI while a play may still be
 * writing them: write to a temp file beside the target and rename, so a reader
 * sees the old file or the new one, never half of one.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ModuleFailure } from './errors';

export function writeReportFile(path: string, data: string, what: string): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(temp, data);
    renameSync(temp, path);
  } catch (e: any) {
    rmSync(temp, { force: true });
    throw new ModuleFailure(`cannot write ${what} ${path}: ${e.message}`);
  }
}
