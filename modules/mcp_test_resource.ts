import { defineModule } from '../src/ansible/spec';
import { CONNECTION_OPTIONS, CONNECTION_REQUIRED_IF, CONNECTION_RETURNS } from '../src/connection_options';
import { runOnServer } from '../src/connection';
import { judgeResource, serverContents } from '../src/checks/resource';
import { FAIL_ON_ERROR_OPTION, mcpFailure, seconds, testOutcome, VALIDATION_RETURN, withCommonKeys } from '../src/results';

export default defineModule({
  name: 'mcp_test_resource',
  short_description: 'Read a resource from an MCP server and check its content',
  description: [
    'Reads one resource (C(resources/read)) and checks its content type and content.',
    'Text contents are returned; binary (blob) contents are reported by size and MIME type, not dumped.',
    'The task fails when a check does not pass (O(fail_on_error=false) keeps it ok, as 1.1.x did). Also returns the server\'s resource templates, so a play can see what URIs it accepts; a server without templates has none, and listing them never fails the task.',
  ],
  supports_check_mode: true,
  check_mode_support: 'full',
  check_mode_details: 'Reading a resource changes nothing, so it runs in check mode too.',
  options: {
    resource_uri: { description: 'URI of the resource to read.', type: 'str', required: true, aliases: ['uri'] },
    expected_content_type: { description: 'MIME type the content must have (for example C(text/plain)).', type: 'str' },
    expected_content: { description: 'Text the content must equal (surrounding whitespace ignored).', type: 'str' },
    expected_content_regex: { description: 'Regular expression (JavaScript syntax, multiline) the text content must match.', type: 'str' },
    return_blobs: {
      description: 'Return binary (blob) contents base64-encoded in C(resource_content.contents[].blob), as 1.1.x did. By default a blob is reported by its size only.',
      type: 'bool',
      default: false,
    },
    fail_on_error: FAIL_ON_ERROR_OPTION,
    ...CONNECTION_OPTIONS,
  },
  required_if: CONNECTION_REQUIRED_IF,
  examples: `
- name: The first static resource of server-everything is plain text
  tosin2013.mcp_audit.mcp_test_resource:
    server_command: npx -y @modelcontextprotocol/server-everything
    resource_uri: demo://resource/static/document/architecture.md
    expected_content_type: text/markdown
    expected_content_regex: "(?i)architecture"
`,
  returns: {
    ...CONNECTION_RETURNS,
    status: { description: 'C(passed) or C(failed).', returned: 'always', type: 'str', sample: 'passed' },
    test_passed: { description: 'Whether every check passed.', returned: 'always', type: 'bool', sample: true },
    resource_uri: { description: 'The URI that was read.', returned: 'always', type: 'str' },
    content_type: { description: 'MIME type of the first content item.', returned: 'when read', type: 'str', sample: 'text/plain' },
    contents: {
      description: 'The contents: C(uri), C(mime_type), and C(text) or C(blob_size) (bytes) for binary content.',
      returned: 'when read',
      type: 'list',
      elements: 'dict',
      sample: [{ uri: 'demo://resource/static/document/1', mime_type: 'text/plain', text: 'Resource 1: This is a plaintext resource' }],
    },
    resource_templates: { description: 'The server\'s resource templates (C(uriTemplate), name, MIME type), all pages.', returned: 'when read', type: 'list', elements: 'dict' },
    resource_content: {
      description: 'The C(resources/read) result as the server sent it (kept for 1.1.x compatibility).',
      returned: 'when read',
      type: 'dict',
      contains: {
        contents: {
          description: 'The content items with MCP\'s field names: C(uri), C(mimeType), and C(text), or for binary content C(blob_size) (bytes), or C(blob) (base64) with O(return_blobs=true).',
          returned: 'always',
          type: 'list',
          elements: 'dict',
          sample: [{ uri: 'file://test_data/document.txt', mimeType: 'text/plain', text: 'This is a test document for MCP resource testing.' }],
        },
        meta: { description: 'The result\'s C(_meta), or null.', returned: 'always', type: 'dict' },
      },
    },
    validation: {
      ...VALIDATION_RETURN,
      contains: {
        ...VALIDATION_RETURN.contains,
        content_type: { description: 'MIME type of the first content item, or null (kept for 1.1.x compatibility).', returned: 'always', type: 'str', sample: 'text/plain' },
      },
    },
  },

  run: withCommonKeys(async (p) => {
    const started = performance.now();
    try {
      const { data, connection } = await runOnServer(p, 'read_resource', { uri: p.resource_uri });
      const verdict = judgeResource(p.resource_uri, data.result, p);
      return {
        ...testOutcome(verdict, p.fail_on_error),
        resource_uri: p.resource_uri,
        content_type: verdict.content_type,
        contents: verdict.contents,
        resource_templates: data.resource_templates,
        resource_content: { contents: serverContents(data.result, p.return_blobs), meta: data.result._meta ?? null },
        validation: verdict.validation,
        connection,
        execution_time: seconds(started),
      };
    } catch (e) {
      return mcpFailure(e, { resource_uri: p.resource_uri, test_passed: false, status: 'failed' }, started);
    }
  }),
});
