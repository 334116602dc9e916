/** Did a prompt pass? Shared by mcp_test_prompt and mcp_test_suite. */
import { compileRegex } from './regex';

/** MCP prompt arguments are strings; YAML gives numbers and booleans too. */
export function promptArguments(args: Record<string, unknown> | null | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(args ?? {}).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

export interface PromptVerdict {
  passed: boolean;
  msg?: string;
  messages: unknown[];
  /** `has_messages`: 1.1.x's check that the prompt returned messages. */
  validation: { valid: boolean; matches_expected: boolean | null; has_messages: boolean; errors: string[]; warnings: string[] };
}

export function judgePrompt(name: string, result: Record<string, any>, expect: { expected_messages_min?: number | null; expected_content_regex?: string | null }): PromptVerdict {
  const messages: any[] = result.messages ?? [];
  const errors: string[] = [];
  const min = expect.expected_messages_min ?? 1;
  if (messages.length < min) errors.push(`expected at least ${min} message(s), got ${messages.length}`);
  let matches: boolean | null = null;
  if (expect.expected_content_regex) {
    const text = messages.map((m) => (m.content?.type === 'text' ? m.content.text : '')).join('\n');
    try {
      matches = compileRegex(expect.expected_content_regex, 'expected_content_regex').test(text);
      if (!matches) errors.push(`no message text matches ${JSON.stringify(expect.expected_content_regex)}`);
    } catch (e) {
      matches = false;
      errors.push((e as Error).message);
    }
  }
  const passed = errors.length === 0;
  return {
    passed,
    ...(passed ? {} : { msg: `prompt '${name}' test failed: ${errors.join('; ')}` }),
    messages,
    validation: { valid: passed, matches_expected: matches, has_messages: messages.length > 0, errors, warnings: [] },
  };
}
