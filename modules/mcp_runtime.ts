import { readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { defineModule } from '../src/ansible/spec';
import { VERSION } from '../src/version';

/**
 * Placing a runtime is the controller's job (it holds the runtime, the cache and the registry
 * settings), so the collection's action plugin implements this module (plugins/action/mcp_runtime.py)
 * and validates its options against this declaration. The runtime itself can only answer status,
 * for someone who runs it by hand on a host.
 */
export default defineModule({
  name: 'mcp_runtime',
  short_description: 'See, place or remove the mcp_audit runtime on a host',
  description: [
    'The modules of this collection run one compiled runtime per platform (linux x86_64 and aarch64), which is not part of the Galaxy collection. The first task on a host places it in C(~/.ansible/mcp_audit/<version>/) of the user the task runs as (the become user with become); later tasks run it in one command.',
    'The controller gets the runtime from, in order: the installed collection (local builds), its cache (C($XDG_CACHE_HOME/tosin2013.mcp_audit/runtimes)), C(mcp_audit_runtime_source) (a package .tgz or a directory holding it, for air-gapped controllers), the npm registry (C(mcp_audit_registry), C(npm_config_registry) or C(~/.npmrc)). Whatever is fetched is checked against the integrity recorded in the collection.',
    'C(state=status) reports which runtime the collection runs, whether it is placed on the host, what other versions are, and where the controller has it from. C(state=present) places it now (execution environments, golden images, air-gapped hosts; C(src) names a local package or runtime). C(state=absent) removes the other versions placed on the host.',
  ],
  supports_check_mode: true,
  check_mode_support: 'full',
  notes: [
    'Host or play variables set where the runtime comes from: C(mcp_audit_registry), C(mcp_audit_runtime_source), and C(mcp_audit_node) (C(auto) or the path of Node >= 20 on the target, to run the compiled program where no runtime is built for the platform, such as Alpine/musl).',
  ],
  options: {
    state: {
      description: 'C(status) reports, C(present) places the runtime of this collection version, C(absent) removes every other version from the host.',
      type: 'str',
      default: 'status',
      choices: ['status', 'present', 'absent'],
    },
    src: {
      description: 'With C(state=present): a runtime package (.tgz) or runtime file on the controller to place, instead of the registry. It is checked against the integrity recorded in the collection.',
      type: 'path',
    },
  },
  examples: `
- name: Place the runtime while building a golden image
  tosin2013.mcp_audit.mcp_runtime:
    state: present

- name: Air-gapped host, package copied to the controller beforehand
  tosin2013.mcp_audit.mcp_runtime:
    state: present
    src: /srv/mirror/tosin2013-mcp-audit-runtime-linux-x64-2.0.0.tgz

- name: Where does the runtime come from?
  tosin2013.mcp_audit.mcp_runtime:
  register: runtime

- name: Free the space of old versions
  tosin2013.mcp_audit.mcp_runtime:
    state: absent
`,
  returns: {
    version: { description: 'The runtime version this collection runs.', returned: 'always', type: 'str', sample: '2.0.0+ab12cd34ef' },
    placed: { description: 'Whether that version is on the host (after the task).', returned: 'always', type: 'bool', sample: true },
    path: { description: 'Where it is (or would be) on the host.', returned: 'always', type: 'str', sample: '~/.ansible/mcp_audit/2.0.0+ab12cd34ef/mcp_audit_runtime' },
    versions: { description: 'Every version placed for this user on the host, with its size in bytes.', returned: 'always', type: 'dict', sample: { '2.0.0+ab12cd34ef': 110174208 } },
    removed: { description: 'Versions removed (C(state=absent)).', returned: 'state=absent', type: 'list', elements: 'str' },
    platform: { description: 'The host platform, when the runtime is not placed.', returned: 'state=status, when not placed', type: 'str', sample: 'linux-arm64' },
    controller: {
      description: 'Where the controller has the runtime: C(path), C(origin) (collection, cache, source or registry), C(cache_dir), C(registry) and C(registry_from), C(source).',
      returned: 'state=status',
      type: 'dict',
    },
  },

  async run(p) {
    if (p.state !== 'status') {
      return { failed: true, msg: `mcp_runtime state=${p.state} runs on the controller: use it through Ansible (tosin2013.mcp_audit.mcp_runtime), not the runtime alone` };
    }
    const root = join(homedir(), '.ansible', 'mcp_audit');
    let versions: string[] = [];
    try {
      versions = readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch {
      /* nothing placed for this user */
    }
    return { changed: false, version: VERSION, placed: versions.includes(VERSION), path: process.execPath, versions: Object.fromEntries(versions.map((v) => [v, null])) };
  },
});
