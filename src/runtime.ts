/**
 * Entry point of the compiled runtime. One executable serves every module
 * (run by the collection's action plugin) and, with --broker, the broker.
 *
 *   <runtime> <args-file>        run the module named by _ansible_module_name
 *   <runtime> -                  the same, with the arguments on stdin (the action plugin's way)
 *   <runtime> --broker           run the broker daemon (started by modules)
 *   <runtime> --docs <dir> [README]   write plugins/modules/<name>.py docs (build time)
 *   <runtime> --version
 */
import { basename } from 'node:path';
import { failEarly, readArgsFile, runModule } from './ansible/protocol';
import { ModuleFailure } from './errors';
import { MODULES } from '../modules/index';
import { VERSION } from './version';

function moduleName(internal: Record<string, unknown>): string {
  const declared = typeof internal._ansible_module_name === 'string' ? internal._ansible_module_name : '';
  // FQCN (tosin2013.mcp_audit.mcp_test_tool) or short name; else the file Ansible copied (named after the module).
  const name = declared.split('.').pop() || basename(process.argv[1] ?? process.execPath);
  return name.replace(/^AnsiballZ_/, '').replace(/\.\w+$/, '');
}

async function main(argv: string[]): Promise<void> {
  switch (argv[0]) {
    case '--version':
      process.stdout.write(`${VERSION}\n`);
      return;
    case '--docs': {
      const { writeDocs, writeRulesDocs } = await import('./ansible/docs');
      const { CONNECTION_OPTIONS } = await import('./connection_options');
      writeDocs(MODULES, argv[1] ?? 'plugins/modules', argv[2], CONNECTION_OPTIONS);
      if (argv[2]) writeRulesDocs(argv[2]);
      return;
    }
    case '--broker': {
      const { runBroker } = await import('../broker/daemon');
      await runBroker();
      return;
    }
  }
  let args;
  try {
    args = readArgsFile(argv[0]);
  } catch (e) {
    return failEarly(e instanceof ModuleFailure ? e.message : String(e));
  }
  const name = moduleName(args.internal);
  const definition = MODULES[name];
  if (!definition) return failEarly(`this runtime has no module named '${name}'; it serves: ${Object.keys(MODULES).join(', ')}`);
  await runModule(definition, args);
}

main(process.argv.slice(2)).catch((e) => failEarly(`internal error in the runtime: ${e instanceof Error ? e.message : String(e)}`));
