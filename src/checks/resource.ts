/** Did a resource read pass? Shared by mcp_test_resource and mcp_test_suite. */
import { compileRegex } from './regex';

export interface ResourceExpectations {
  expected_content_type?: string | null;
  expected_content?: string | null;
  expected_content_regex?: string | null;
}

export interface ResourceContentReport {
  uri: string;
  mime_type: string | null;
  text?: string;
  /** Blobs are reported by size and type, never dumped into the play output. */
  blob_size?: number;
}

export interface ResourceVerdict {
  passed: boolean;
  msg?: string;
  contents: ResourceContentReport[];
  content_type: string | null;
  /** `content_type`: 1.1.x's name for the MIME type of the first content item. */
  validation: { valid: boolean; matches_expected: boolean | null; content_type: string | null; errors: string[]; warnings: string[] };
}

export function reportContents(result: Record<string, any>): ResourceContentReport[] {
  return (result.contents ?? []).map((c: any) =>
    typeof c.blob === 'string'
      ? { uri: c.uri, mime_type: c.mimeType ?? null, blob_size: Buffer.byteLength(c.blob, 'base64') }
      : { uri: c.uri, mime_type: c.mimeType ?? null, text: c.text ?? '' },
  );
}

/**
 * The contents with MCP's field names, as 1.1.x returned them in resource_content.
 * A blob is replaced by its size unless asked for: base64 does not belong in play output.
 */
export function serverContents(result: Record<string, any>, withBlobs: boolean): Record<string, unknown>[] {
  return (result.contents ?? []).map((c: any) => {
    if (typeof c.blob !== 'string' || withBlobs) return c;
    const { blob, ...rest } = c;
    return { ...rest, blob_size: Buffer.byteLength(blob, 'base64') };
  });
}

export function judgeResource(uri: string, result: Record<string, any>, expect: ResourceExpectations): ResourceVerdict {
  const contents = reportContents(result);
  const errors: string[] = [];
  const warnings: string[] = [];
  if (!contents.length) errors.push('the server returned no contents');
  const contentType = contents[0]?.mime_type ?? null;
  if (expect.expected_content_type && !contents.some((c) => c.mime_type === expect.expected_content_type)) {
    errors.push(`expected content type ${expect.expected_content_type}, got ${contents.map((c) => c.mime_type ?? 'none').join(', ') || 'nothing'}`);
  }
  const text = contents.filter((c) => c.text !== undefined).map((c) => c.text).join('\n');
  let matches: boolean | null = null;
  if (expect.expected_content !== null && expect.expected_content !== undefined) {
    matches = text === expect.expected_content || text.trim() === expect.expected_content.trim();
    if (!matches) errors.push(`content does not equal expected_content (got ${JSON.stringify(text.length > 200 ? text.slice(0, 200) + '…' : text)})`);
  }
  if (expect.expected_content_regex) {
    try {
      const ok = compileRegex(expect.expected_content_regex, 'expected_content_regex').test(text);
      matches = (matches ?? true) && ok;
      if (!ok) errors.push(`content does not match expected_content_regex ${JSON.stringify(expect.expected_content_regex)}`);
    } catch (e) {
      errors.push((e as Error).message);
      matches = false;
    }
  }
  if (!text && contents.some((c) => c.blob_size !== undefined) && (expect.expected_content || expect.expected_content_regex)) {
    warnings.push('the resource is binary (blob); text expectations cannot match it');
  }
  const passed = errors.length === 0;
  return {
    passed,
    ...(passed ? {} : { msg: `resource '${uri}' test failed: ${errors.join('; ')}` }),
    contents,
    content_type: contentType,
    validation: { valid: passed, matches_expected: matches, content_type: contentType, errors, warnings },
  };
}
