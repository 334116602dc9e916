/**
 * mcp_security_scan's run: usage checks first (nothing starts for a play with
 * a typo), then one listing on the (pooled) session, then everything else in
 * the module process: rules, pins, the judge, the reports.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { ModuleResult, TaskContext } from '../ansible/spec';
import { runOnServer } from '../connection';
import { ModuleFailure } from '../errors';
import { junitXml } from '../junit';
import { llmSettings } from '../llm/providers';
import { writeReportFile } from '../report_file';
import { seconds } from '../results';
import { describeServer, serverFromParams } from '../server_definition';
import { VERSION } from '../version';
import { applyAllow, checkAllowEntries, failing, knownToolNames, selectRules, sortFindings, summarize, type AllowEntry, type CheckedTarget } from './audit';
import { comparePins, pinFileText, pinsOf, readPinFile, surfaceChanges, writePinFile, type PinComparison } from './pins';
import { midSessionFindings, pinFindings } from './rug_pull';
import { sarifJson, sarifLog } from './sarif';
import { scanSurface } from './scan';
import { securityJUnitCases } from './security_junit';
import type { Finding, ServerSurface } from './types';

/** The pin file as code scanning wants it: relative to the root of the git checkout holding it; undefined outside one. */
function repositoryPath(path: string | undefined): string | undefined {
  if (!path) return undefined;
  const file = resolve(path);
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, '.git'))) return relative(dir, file).split(sep).join('/');
  }
  return undefined;
}

const refLabel = (r: { kind: string; name: string }) => `${r.kind}:${r.name}`;

function checkedTargets(s: ServerSurface): CheckedTarget[] {
  return [
    ...(s.instructions ? [{ kind: 'server' as const, name: s.server_info.name ?? 'server' }] : []),
    ...s.tools.map((t) => ({ kind: 'tool' as const, name: t.name })),
    ...s.prompts.map((p) => ({ kind: 'prompt' as const, name: p.name })),
    ...s.resources.map((r) => ({ kind: 'resource' as const, name: r.name ?? r.uri })),
    ...s.resource_templates.map((t) => ({ kind: 'resource_template' as const, name: t.name ?? t.uriTemplate })),
  ];
}

function pinReport(c: PinComparison, pinFile: string, mode: string, written: boolean) {
  return {
    pin_file: pinFile,
    mode,
    added: c.added.map(refLabel),
    removed: c.removed.map(refLabel),
    changed: c.changed.map((i) => ({ kind: i.kind, name: i.name, fields: i.fields.map((f) => ({ path: f.path, diff: f.diff })) })),
    unchanged: c.unchanged.map(refLabel),
    written,
  };
}

function verdictMessage(failed: Finding[], failOn: string, total: number, targets: number): string {
  if (!failed.length) return `checked ${targets} definitions: ${total} finding(s), none at or above ${failOn}`;
  const shown = failed.slice(0, 5).map((f) => `${f.rule_id} ${f.rule_name} on ${f.target_kind} '${f.target_name}'${f.field ? ` (${f.field})` : ''}`);
  return `${failed.length} finding(s) at or above ${failOn}: ${shown.join('; ')}${failed.length > shown.length ? `; and ${failed.length - shown.length} more` : ''}`;
}

export async function runSecurityScan(p: Record<string, any>, task: TaskContext, started: number): Promise<ModuleResult> {
  const rules = selectRules(p.rules, p.skip_rules);
  const running = new Set(rules.map((r) => r.id));
  const allow = (p.allow ?? []) as AllowEntry[];
  checkAllowEntries(allow);
  const known_tools = knownToolNames(p.known_tools);
  const judgeSettings = p.llm_judge ? llmSettings(p) : undefined;
  for (const secret of judgeSettings?.secrets ?? []) task.hideSecret(secret);
  const pinned = p.pin_file ? readPinFile(p.pin_file) : undefined;
  const mode: string | undefined = p.pin_file ? (p.pin_mode ?? (pinned ? 'verify' : 'update')) : undefined;
  if (mode === 'verify' && !pinned) throw new ModuleFailure(`pin_file ${p.pin_file} does not exist: create it with pin_mode: update, review it and commit it`);

  const reply = await runOnServer(p, 'list_surface', {});
  // A server may show a secret of the task (a server_env value in a description): everything below, the pin file
  // and the reports included, sees it masked, as the task's result would.
  const { surface, earlier } = task.mask(reply.data);
  const found: Finding[] = scanSurface(surface, { known_tools, rules: [...running] });
  if (earlier) found.push(...midSessionFindings(surfaceChanges(earlier, surface)));

  let pins: ReturnType<typeof pinReport> | undefined;
  let changed = false;
  let diff: Record<string, string> | undefined;
  if (mode) {
    const current = pinsOf(surface);
    const comparison = comparePins(pinned ?? pinsOf({ ...surface, instructions: null, tools: [], prompts: [], resource_templates: [] }), current);
    if (mode === 'verify') found.push(...pinFindings(comparison, p.pin_file));
    else {
      const before = task.diff && existsSync(p.pin_file) ? readFileSync(p.pin_file, 'utf8') : '';
      changed = writePinFile(p.pin_file, current, { checkMode: task.checkMode });
      // --diff shows the pin file as a reviewer will see it in the pull request.
      if (changed && task.diff) diff = { before, after: pinFileText(p.pin_file, current), before_header: p.pin_file, after_header: p.pin_file };
    }
    pins = pinReport(comparison, p.pin_file, mode, changed);
  }

  let judge: Record<string, unknown> | undefined;
  if (judgeSettings) {
    const { judgeSurface } = await import('./judge');
    const verdicts = await judgeSurface(surface, judgeSettings);
    found.push(...verdicts.findings);
    judge = { provider: judgeSettings.provider, model: judgeSettings.model, verdicts: verdicts.verdicts };
  }

  const findings = sortFindings(applyAllow(found.filter((f) => running.has(f.rule_id)), allow));
  const failed = failing(findings, p.fail_on);
  const targets = checkedTargets(surface);
  const described = describeServer(serverFromParams(p));
  const server = { name: surface.server_info.name ?? 'server', version: surface.server_info.version, id: String(described.command ?? described.url) };
  if (p.sarif_path && !task.checkMode) {
    const log = sarifLog({ findings, rules, server, artifactUri: repositoryPath(p.pin_file), toolVersion: VERSION });
    writeReportFile(p.sarif_path, sarifJson(log), 'sarif_path');
  }
  if (p.report_path && !task.checkMode) {
    const cases = securityJUnitCases({ findings, rules, targets, failOn: p.fail_on, server: server.name });
    writeReportFile(p.report_path, junitXml(`mcp_security_scan ${server.name}`, cases), 'report_path');
  }

  const passed = failed.length === 0;
  return {
    changed,
    failed: !passed,
    success: true,
    test_passed: passed,
    status: passed ? 'passed' : 'failed',
    msg: verdictMessage(failed, p.fail_on, findings.filter((f) => !f.allowed).length, targets.length),
    findings,
    summary: summarize(findings),
    checked: {
      tools: surface.tools.length,
      prompts: surface.prompts.length,
      resources: surface.resources.length,
      resource_templates: surface.resource_templates.length,
      instructions: Boolean(surface.instructions),
      rules: [...running],
    },
    tools: surface.tools.map((t) => t.name),
    ...(pins ? { pins } : {}),
    ...(diff ? { diff } : {}),
    ...(judge ? { judge } : {}),
    ...(p.sarif_path && !task.checkMode ? { sarif_path: p.sarif_path } : {}),
    ...(p.report_path && !task.checkMode ? { report_path: p.report_path } : {}),
    connection: reply.connection,
    execution_time: seconds(started),
  };
}
