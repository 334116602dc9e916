/**
 * Rug pulls as findings: a definition that differs from the pinned one
 * (MCPA901-903), or that changed while the session was open (MCPA904).
 */
import type { ItemRef, PinComparison } from './pins';
import { rule as ruleById } from './rules';
import type { Finding, Severity } from './types';

function finding(ruleId: string, severity: Severity, ref: ItemRef, field: string, message: string, evidence = ''): Finding {
  const rule = ruleById(ruleId);
  return { rule_id: rule.id, rule_name: rule.name, severity, target_kind: ref.kind, target_name: ref.name, field, message, evidence, remediation: rule.remediation };
}

const label = (ref: ItemRef) => (ref.kind === 'server' ? 'the server instructions' : `${ref.kind.replace('_', ' ')} '${ref.name}'`);

/** pin_mode: verify — every difference from the pin file. */
export function pinFindings(c: PinComparison, pinFile: string): Finding[] {
  return [
    ...c.changed.flatMap((item) =>
      item.fields.map((f) => finding('MCPA901', 'high', item, f.path, `${label(item)} changed since it was pinned in ${pinFile}: ${f.path || 'the definition'} differs`, f.diff)),
    ),
    ...c.added.map((ref) => finding('MCPA902', 'medium', ref, '', `${label(ref)} is not in ${pinFile}: review it, then pin it (pin_mode: update)`)),
    ...c.removed.map((ref) => finding('MCPA903', 'low', ref, '', `${label(ref)} is pinned in ${pinFile} but the server no longer offers it`)),
  ];
}

/**
 * What the server listed differently within one session. A changed definition is the rug pull (high); a tool that
 * appears is how dynamic toolsets work, but it was never reviewed (medium); one that goes away is low.
 */
export function midSessionFindings(c: PinComparison): Finding[] {
  const changedWhile = 'after the session first listed it (the server changed its definitions mid-session)';
  return [
    ...c.changed.flatMap((item) => item.fields.map((f) => finding('MCPA904', 'high', item, f.path, `${label(item)} changed ${changedWhile}: ${f.path || 'the definition'} differs`, f.diff))),
    ...c.added.map((ref) => finding('MCPA904', 'medium', ref, '', `${label(ref)} appeared ${changedWhile}`)),
    ...c.removed.map((ref) => finding('MCPA904', 'low', ref, '', `${label(ref)} disappeared ${changedWhile}`)),
  ];
}
