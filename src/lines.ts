/**
 * Newline-delimited framing of a byte stream in time linear in its size:
 * each chunk is searched for newlines once, and a line's pieces are joined
 * once, when its newline arrives (appending to a string and searching it
 * again for every chunk made a 60 MB line cost seconds per chunk).
 *
 * A line longer than `maxBytes` is not kept: its bytes are counted and
 * dropped, and onOversized hears its size with its first and last bytes
 * (where a JSON-RPC message keeps its id).
 */

export interface OversizedLine {
  bytes: number;
  head: string;
  tail: string;
}

const EDGE_BYTES = 256;

function firstBytes(buffers: Buffer[]): Buffer {
  const taken: Buffer[] = [];
  let n = 0;
  for (const b of buffers) {
    if (n >= EDGE_BYTES) break;
    taken.push(b);
    n += b.length;
  }
  return Buffer.concat(taken).subarray(0, EDGE_BYTES);
}

export class LineReader {
  private pieces: Buffer[] = [];
  private size = 0;
  private oversized?: { bytes: number; head: Buffer; tail: Buffer };

  constructor(
    private readonly maxBytes: number,
    private readonly onLine: (line: string) => void,
    private readonly onOversized: (line: OversizedLine) => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      this.append(chunk.subarray(start, nl < 0 ? chunk.length : nl));
      if (nl < 0) return;
      this.endLine();
      start = nl + 1;
    }
  }

  private append(piece: Buffer): void {
    if (!piece.length) return;
    const over = this.oversized;
    if (over) {
      over.bytes += piece.length;
      over.tail = piece.length >= EDGE_BYTES ? piece.subarray(-EDGE_BYTES) : Buffer.concat([over.tail, piece]).subarray(-EDGE_BYTES);
      return;
    }
    if (this.size + piece.length <= this.maxBytes) {
      this.pieces.push(piece);
      this.size += piece.length;
      return;
    }
    // Over the limit: keep the edges, drop the rest.
    this.oversized = { bytes: this.size + piece.length, head: firstBytes([...this.pieces, piece]), tail: Buffer.from(piece.subarray(-EDGE_BYTES)) };
    this.pieces = [];
    this.size = 0;
  }

  private endLine(): void {
    const over = this.oversized;
    if (over) {
      this.oversized = undefined;
      this.onOversized({ bytes: over.bytes, head: over.head.toString('utf8'), tail: over.tail.toString('utf8') });
      return;
    }
    if (!this.size) return;
    // Decoded as a whole: a multi-byte character split between chunks stays intact.
    const line = Buffer.concat(this.pieces, this.size).toString('utf8');
    this.pieces = [];
    this.size = 0;
    this.onLine(line);
  }
}
