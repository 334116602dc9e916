#!/usr/bin/env node
/**
 * The collection's changelog in antsibull-changelog's format: changelogs/config.yaml,
 * changelogs/changelog.yaml and fragments in changelogs/fragments/, rendered into
 * CHANGELOG.rst. antsibull-changelog itself is not packaged for Debian 12 and PyPI is
 * out of reach here, so this script does the three things the project needs of it, on
 * the same files (antsibull-changelog can take over at any time):
 *
 *   node scripts/changelog.mjs lint       check changelog.yaml and every fragment
 *   node scripts/changelog.mjs release    merge the fragments into the release of
 *                                         galaxy.yml's version, delete them, render
 *   node scripts/changelog.mjs generate   render CHANGELOG.rst from changelog.yaml
 *   node scripts/changelog.mjs check      fail when CHANGELOG.rst is not what generate writes
 *
 * A fragment is a YAML file of sections (`breaking_changes: [...]`, `bugfixes: [...]`,
 * `release_summary: ...`), named after the change (`123-fail-on-error.yml`).
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export function readProject(root = ROOT) {
  const dir = join(root, 'changelogs');
  const config = parse(readFileSync(join(dir, 'config.yaml'), 'utf8'));
  const changelog = parse(readFileSync(join(dir, config.changes_file), 'utf8'));
  const galaxy = parse(readFileSync(join(root, 'galaxy.yml'), 'utf8'));
  const notes = join(dir, config.notesdir);
  const fragments = existsSync(notes)
    ? readdirSync(notes)
        .filter((f) => /\.ya?ml$/.test(f))
        .sort()
        .map((file) => ({ file, path: join(notes, file), changes: parse(readFileSync(join(notes, file), 'utf8')) }))
    : [];
  return { root, dir, config, changelog, galaxy, fragments };
}

const sectionNames = (config) => new Set([config.prelude_section_name, config.trivial_section_name, ...config.sections.map(([name]) => name)]);

/** Problems in a set of changes (a fragment or a release's `changes`), each naming where. */
function changesProblems(changes, where, config) {
  if (!changes || typeof changes !== 'object' || Array.isArray(changes)) return [`${where}: must be a mapping of sections`];
  const known = sectionNames(config);
  const problems = [];
  for (const [section, value] of Object.entries(changes)) {
    if (!known.has(section)) problems.push(`${where}: unknown section '${section}' (known: ${[...known].join(', ')})`);
    else if (section === config.prelude_section_name) {
      if (typeof value !== 'string' || !value.trim()) problems.push(`${where}: ${section} must be a non-empty string`);
    } else if (!Array.isArray(value) || !value.every((e) => typeof e === 'string' && e.trim())) {
      problems.push(`${where}: ${section} must be a list of non-empty strings`);
    }
  }
  return problems;
}

export function lint({ config, changelog, fragments }) {
  const problems = [];
  for (const [version, release] of Object.entries(changelog.releases ?? {})) {
    if (!/^\d+\.\d+\.\d+/.test(version)) problems.push(`changelog.yaml: release '${version}' is not a semantic version`);
    if (release.changes) problems.push(...changesProblems(release.changes, `changelog.yaml ${version}`, config));
    for (const m of release.modules ?? []) if (!m.name || !m.description) problems.push(`changelog.yaml ${version}: a new module needs name and description`);
  }
  for (const f of fragments) problems.push(...changesProblems(f.changes, `fragment ${f.file}`, config));
  return problems;
}

const sorted = (entries) => [...entries].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/** The changelog with the fragments merged into `version` (created, dated `date`, when new). */
export function release(changelog, fragments, config, version, date) {
  const releases = { ...(changelog.releases ?? {}) };
  const entry = { release_date: date, ...(releases[version] ?? {}) };
  const changes = { ...(entry.changes ?? {}) };
  for (const { changes: add } of fragments) {
    for (const [section, value] of Object.entries(add)) {
      if (section === config.trivial_section_name) continue;
      if (section === config.prelude_section_name) changes[section] = changes[section] ? `${changes[section].trimEnd()}\n\n${value}` : value;
      else changes[section] = sorted([...(changes[section] ?? []), ...value]);
    }
  }
  entry.changes = changes;
  entry.fragments = sorted([...(entry.fragments ?? []), ...fragments.map((f) => f.file)]);
  releases[version] = entry;
  return { ...changelog, releases };
}

const underline = (text, char) => char.repeat(text.length);
const heading = (text, char) => [text, underline(text, char), ''];
const bullet = (text) => {
  const [first, ...rest] = text.trimEnd().split('\n');
  return [`- ${first}`, ...rest.map((l) => (l ? `  ${l}` : ''))];
};
const compareVersions = (a, b) => {
  const pa = a.split(/[.+-]/).map(Number);
  const pb = b.split(/[.+-]/).map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) if ((pa[i] || 0) !== (pb[i] || 0)) return (pb[i] || 0) - (pa[i] || 0);
  return 0;
};

/** CHANGELOG.rst as antsibull-changelog writes it: newest release first, sections in config order. */
export function renderRst({ config, changelog, galaxy }) {
  const title = `${config.title} Release Notes`;
  const lines = [underline(title, '='), title, underline(title, '='), '', '.. contents:: Topics', ''];
  if (changelog.ancestor && config.mention_ancestor) lines.push(`This changelog describes changes after version ${changelog.ancestor}.`, '');
  for (const version of Object.keys(changelog.releases ?? {}).sort(compareVersions)) {
    const r = changelog.releases[version];
    const changes = r.changes ?? {};
    lines.push(...heading(`v${version}`, '='));
    if (changes[config.prelude_section_name]) lines.push(...heading(config.prelude_section_title, '-'), changes[config.prelude_section_name].trimEnd(), '');
    const modules = () => {
      if (!r.modules?.length) return;
      lines.push(...heading('New Modules', '-'));
      for (const m of [...r.modules].sort((a, b) => (a.name < b.name ? -1 : 1))) {
        const name = config.use_fqcn ? `${galaxy.namespace}.${galaxy.name}.${m.namespace ? `${m.namespace}.` : ''}${m.name}` : m.name;
        const description = config.add_plugin_period && !/[.!?]$/.test(m.description) ? `${m.description}.` : m.description;
        lines.push(`- ${name} - ${description}`);
      }
      lines.push('');
    };
    for (const [section, sectionTitle] of config.sections) {
      if (changes[section]?.length) {
        lines.push(...heading(sectionTitle, '-'));
        for (const entry of sorted(changes[section])) lines.push(...bullet(entry));
        lines.push('');
      }
      if (section === config.new_plugins_after_name) modules();
    }
    if (!config.sections.some(([s]) => s === config.new_plugins_after_name)) modules();
  }
  return lines.join('\n').replace(/\n+$/, '\n');
}

function outputPath(project) {
  const rst = project.config.output.find((o) => o.format === 'rst');
  if (!rst) throw new Error('changelogs/config.yaml has no rst output');
  return join(project.root, rst.file);
}

function main(command) {
  const project = readProject();
  const problems = lint(project);
  if (problems.length) {
    console.error(`changelog: ${problems.length} problem(s):\n${problems.map((p) => `  ${p}`).join('\n')}`);
    process.exit(1);
  }
  const out = outputPath(project);
  switch (command) {
    case 'lint':
      console.log(`changelog: ${project.fragments.length} fragment(s), changelog.yaml and config.yaml are well-formed`);
      return;
    case 'check': {
      const current = existsSync(out) ? readFileSync(out, 'utf8') : '';
      if (current !== renderRst(project)) {
        console.error(`changelog: ${out} is not up to date with changelogs/changelog.yaml; run: npm run changelog`);
        process.exit(1);
      }
      console.log(`changelog: ${out} is up to date`);
      return;
    }
    case 'release': {
      const version = String(project.galaxy.version);
      const changelog = release(project.changelog, project.fragments, project.config, version, new Date().toISOString().slice(0, 10));
      // YAML 1.1 as antsibull-changelog (PyYAML) reads it: release_date stays a string; lines fit ansible-lint's yamllint (160).
      writeFileSync(join(project.dir, project.config.changes_file), stringify(changelog, { version: '1.1', lineWidth: 120 }));
      if (!project.config.keep_fragments) for (const f of project.fragments) rmSync(f.path);
      project.changelog = changelog;
      console.log(`changelog: merged ${project.fragments.length} fragment(s) into ${version}`);
    }
    // falls through: a release is rendered too
    case 'generate':
      writeFileSync(out, renderRst(project));
      console.log(`changelog: wrote ${out}`);
      return;
    default:
      console.error('usage: node scripts/changelog.mjs lint|release|generate|check');
      process.exit(2);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv[2] ?? 'generate');
