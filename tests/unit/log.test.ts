/**
 * The broker log (broker/log.ts): one line per event with its fields,
 * strings JSON-quoted (so a value cannot forge a line), rotated once to
 * broker.log.1 past 1 MiB, and never throwing, whatever the file system does.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BrokerLog } from '../../broker/log';

const MIB = 1024 * 1024;
let dir: string;
let path: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mcp-audit-log-'));
  path = join(dir, 'broker.log');
});

afterEach(() => {
  try {
    chmodSync(dir, 0o700);
  } catch {
    /* already gone */
  }
  rmSync(dir, { recursive: true, force: true });
});

const lines = (p = path) => readFileSync(p, 'utf8').split('\n').slice(0, -1);
const LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) pid=(\d+) (.*)$/;

describe('BrokerLog.write', () => {
  it('writes one line with a timestamp, the pid and the event', () => {
    const before = Date.now();
    new BrokerLog(path).write('broker started');
    const [line, ...rest] = lines();
    expect(rest).toEqual([]);
    const m = LINE.exec(line);
    expect(m).not.toBeNull();
    expect(Number(m![2])).toBe(process.pid);
    expect(m![3]).toBe('broker started');
    const t = Date.parse(m![1]);
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(Date.now());
    expect(readFileSync(path, 'utf8').endsWith('\n')).toBe(true);
  });

  it('appends fields as key=value, strings JSON-quoted, other values as JSON', () => {
    new BrokerLog(path).write('server started', { server: 'npx -y srv', pid: 42, ok: true, gone: null, missing: undefined, list: [1, 'a'], obj: { k: 'v' } });
    expect(LINE.exec(lines()[0])![3]).toBe('server started server="npx -y srv" pid=42 ok=true gone=null missing=null list=[1,"a"] obj={"k":"v"}');
  });

  it('escapes newlines and quotes in strings, so one event is always one line', () => {
    const log = new BrokerLog(path);
    log.write('evil', { msg: 'a\n2026-01-01T00:00:00.000Z pid=1 forged "x"' });
    log.write('next');
    const all = lines();
    expect(all).toHaveLength(2);
    expect(all[0]).toContain('msg="a\\n2026-01-01T00:00:00.000Z pid=1 forged \\"x\\""');
    expect(LINE.exec(all[1])![3]).toBe('next');
  });

  it('appends to the file across writes and across instances', () => {
    const a = new BrokerLog(path);
    a.write('one');
    a.write('two');
    new BrokerLog(path).write('three');
    expect(lines().map((l) => LINE.exec(l)![3])).toEqual(['one', 'two', 'three']);
  });

  it('creates the file with mode 0600', () => {
    new BrokerLog(path).write('x');
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});

describe('rotation', () => {
  it('moves a file that would pass 1 MiB to .1 and starts afresh', () => {
    const old = 'o'.repeat(MIB - 10);
    writeFileSync(path, old);
    const log = new BrokerLog(path);
    log.write('after rotation', { n: 1 });
    expect(readFileSync(`${path}.1`, 'utf8')).toBe(old);
    expect(lines().map((l) => LINE.exec(l)![3])).toEqual(['after rotation n=1']);
  });

  it('does not rotate while the line still fits', () => {
    writeFileSync(path, 'o'.repeat(1000));
    new BrokerLog(path).write('small');
    expect(existsSync(`${path}.1`)).toBe(false);
    expect(statSync(path).size).toBeGreaterThan(1000);
  });

  it('keeps one old file: a second rotation replaces .1', () => {
    writeFileSync(`${path}.1`, 'ancient');
    writeFileSync(path, 'x'.repeat(MIB));
    new BrokerLog(path).write('new');
    expect(readFileSync(`${path}.1`, 'utf8')).toBe('x'.repeat(MIB));
    expect(existsSync(`${path}.2`)).toBe(false);
  });

  it('bounds the log at 1 MiB while one instance keeps writing', () => {
    const log = new BrokerLog(path);
    const field = 'f'.repeat(1000);
    let rotated = false;
    for (let i = 0; i < 2500; i++) {
      log.write('event', { i, field });
      expect(statSync(path).size).toBeLessThanOrEqual(MIB);
      rotated ||= existsSync(`${path}.1`);
    }
    expect(rotated).toBe(true);
    expect(statSync(`${path}.1`).size).toBeLessThanOrEqual(MIB);
    expect(statSync(`${path}.1`).size).toBeGreaterThan(MIB - 2000);
    // Nothing is lost between the two files: the last line of .1 and the first of the log are consecutive.
    const last = lines(`${path}.1`).at(-1)!;
    const first = lines()[0];
    const n = (l: string) => Number(/ i=(\d+) /.exec(l)![1]);
    expect(n(first)).toBe(n(last) + 1);
  });

  it('counts bytes, not characters: multi-byte text does not push the file past 1 MiB', () => {
    const log = new BrokerLog(path);
    const field = 'é'.repeat(500) + '日本'.repeat(100); // ~1600 bytes, ~700 characters
    for (let i = 0; i < 1500; i++) {
      log.write('event', { i, field });
      expect(statSync(path).size).toBeLessThanOrEqual(MIB);
    }
    expect(existsSync(`${path}.1`)).toBe(true);
  });

  it('keeps logging when the full log was removed by someone else before it rotated', () => {
    writeFileSync(path, 'o'.repeat(MIB - 5));
    const log = new BrokerLog(path);
    rmSync(path);
    log.write('a');
    log.write('b');
    expect(lines().map((l) => LINE.exec(l)![3])).toEqual(['a', 'b']);
    expect(existsSync(`${path}.1`)).toBe(false);
  });

  it('picks up the size of an existing file when it starts', () => {
    writeFileSync(path, 'o'.repeat(MIB - 5));
    const log = new BrokerLog(path);
    log.write('a');
    // The first write already rotated: the new file holds only that line.
    expect(lines().length).toBe(1);
  });
});

describe('never throws', () => {
  it('when the directory does not exist', () => {
    const log = new BrokerLog(join(dir, 'missing', 'broker.log'));
    expect(() => log.write('x', { a: 1 })).not.toThrow();
    expect(existsSync(join(dir, 'missing'))).toBe(false);
  });

  it('when a parent of the log is a file', () => {
    writeFileSync(join(dir, 'file'), '');
    const log = new BrokerLog(join(dir, 'file', 'broker.log'));
    expect(() => log.write('x')).not.toThrow();
  });

  it('when the log path is a directory', () => {
    mkdirSync(path);
    const log = new BrokerLog(path);
    expect(() => log.write('x')).not.toThrow();
  });

  it('when rotation fails (the file vanished and its directory too)', () => {
    const sub = join(dir, 'sub');
    mkdirSync(sub);
    const p = join(sub, 'broker.log');
    writeFileSync(p, 'o'.repeat(MIB));
    const log = new BrokerLog(p);
    rmSync(sub, { recursive: true });
    expect(() => log.write('x')).not.toThrow();
  });

  it.skipIf(process.getuid?.() === 0)('when the directory is not writable', () => {
    chmodSync(dir, 0o500);
    const log = new BrokerLog(path);
    expect(() => log.write('x')).not.toThrow();
    expect(existsSync(path)).toBe(false);
  });

  it('and logs again once the directory exists', () => {
    const sub = join(dir, 'later');
    const log = new BrokerLog(join(sub, 'broker.log'));
    log.write('lost');
    mkdirSync(sub);
    log.write('kept');
    expect(lines(join(sub, 'broker.log')).map((l) => LINE.exec(l)![3])).toEqual(['kept']);
  });
});
