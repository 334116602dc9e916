/**
 * Masking secrets in text, in one place for every cut point: mask first,
 * then cut, then mask what the cut left at the window's edges.
 *
 * Masking whole secrets is not enough wherever text is cut to a window (the
 * tail of a server's stderr, the excerpt of a garbage line or of an API's
 * error body): a window may begin or end inside a secret, and the part that
 * survived the cut no longer matches the whole secret. So at each edge where
 * the text was cut, a secret's suffix (at the start) or prefix (at the end)
 * of MIN_FRAGMENT characters or more is masked too.
 */

export const MASK = '********';
/** Shorter fragments are left alone: masking them would hit ordinary text and hide next to nothing. */
export const MIN_FRAGMENT = 4;

/** Secrets, longest first (a secret that contains another is masked whole); empty ones dropped. */
function ordered(secrets: Iterable<string>): string[] {
  return [...new Set(secrets)].filter(Boolean).sort((a, b) => b.length - a.length);
}

/** Every occurrence of each secret replaced by the mask. */
export function maskText(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const s of ordered([...secrets].filter((x) => x && text.includes(x)))) out = out.split(s).join(MASK);
  return out;
}

/**
 * Mask fragments of secrets at the edges of a window: where `start` is true the
 * window may begin inside a secret, where `end` is true it may end inside one.
 */
export function maskEdges(window: string, secrets: Iterable<string>, edges: { start?: boolean; end?: boolean }): string {
  let out = window;
  for (const s of ordered(secrets)) {
    if (edges.start) {
      for (let n = Math.min(s.length, out.length); n >= MIN_FRAGMENT; n--) {
        if (out.startsWith(s.slice(-n))) {
          out = MASK + out.slice(n);
          break;
        }
      }
    }
    if (edges.end) {
      for (let n = Math.min(s.length, out.length); n >= MIN_FRAGMENT; n--) {
        if (out.endsWith(s.slice(0, n))) {
          out = out.slice(0, out.length - n) + MASK;
          break;
        }
      }
    }
  }
  return out;
}

export interface ExcerptOptions {
  /** Keep the beginning of the text, or its end. */
  keep: 'head' | 'tail';
  /** At most this many lines (counted after masking)... */
  lines?: number;
  /** ...and at most this many characters. */
  chars?: number;
  /** The text is itself a window already cut before its first character (a rolling tail)... */
  cutStart?: boolean;
  /** ...or after its last one (a stream still being written). */
  cutEnd?: boolean;
}

/** A window of `text` that shows no secret and no fragment of one at its edges. */
export function excerpt(text: string, secrets: Iterable<string>, o: ExcerptOptions): string {
  let out = maskText(text, secrets);
  let cutStart = !!o.cutStart;
  let cutEnd = !!o.cutEnd;
  const cut = (kept: string) => {
    if (o.keep === 'head') cutEnd = true;
    else cutStart = true;
    return kept;
  };
  if (o.lines !== undefined) {
    const lines = out.split('\n');
    if (lines.length > o.lines) out = cut((o.keep === 'head' ? lines.slice(0, o.lines) : lines.slice(-o.lines)).join('\n'));
  }
  if (o.chars !== undefined && out.length > o.chars) out = cut(o.keep === 'head' ? out.slice(0, o.chars) : out.slice(-o.chars));
  return maskEdges(out, secrets, { start: cutStart, end: cutEnd });
}
