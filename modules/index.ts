/** Every module the runtime serves, by the name Ansible calls it. */
import type { ModuleDefinition } from '../src/ansible/spec';
import mcp_broker from './mcp_broker';
import mcp_runtime from './mcp_runtime';
import mcp_security_scan from './mcp_security_scan';
import mcp_server_info from './mcp_server_info';
import mcp_test_prompt from './mcp_test_prompt';
import mcp_test_resource from './mcp_test_resource';
import mcp_test_suite from './mcp_test_suite';
import mcp_test_tool from './mcp_test_tool';
import mcp_test_llm_integration from './mcp_test_llm_integration';

export const MODULES: Record<string, ModuleDefinition<any>> = {
  mcp_broker,
  mcp_runtime,
  mcp_security_scan,
  mcp_server_info,
  mcp_test_prompt,
  mcp_test_resource,
  mcp_test_suite,
  mcp_test_tool,
  mcp_test_llm_integration,
};
