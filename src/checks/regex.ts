/**
 * Regular expressions from playbooks. Authors coming from Python write a
 * leading inline flag group like `(?i)`, which JavaScript does not accept:
 * it is turned into the equivalent flags.
 */
export function compileRegex(pattern: string, option: string): RegExp {
  let flags = 'm';
  let source = pattern;
  const inline = /^\(\?([imsu]+)\)/.exec(pattern);
  if (inline) {
    source = pattern.slice(inline[0].length);
    for (const f of inline[1]) if (!flags.includes(f)) flags += f;
  }
  try {
    return new RegExp(source, flags);
  } catch (e) {
    throw new SyntaxError(`${option} is not a valid regular expression: ${(e as Error).message}`);
  }
}
