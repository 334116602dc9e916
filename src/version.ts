/** The collection/runtime version; the broker socket name carries it. Replaced at build time. */
declare const __MCP_AUDIT_VERSION__: string | undefined;
export const VERSION: string = typeof __MCP_AUDIT_VERSION__ === 'string' ? __MCP_AUDIT_VERSION__ : '0.0.0-dev';
