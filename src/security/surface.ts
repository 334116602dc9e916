/**
 * Every string a server puts in front of the model, with where it came from.
 * Clients pass tool, prompt and resource definitions to the model more or less
 * verbatim (input schemas as raw JSON Schema), so a rule must see every
 * description, title, enum value, default, example and property name at any
 * depth, not only the top-level description.
 */
import type { ServerSurface, TargetKind } from './types';
import { MAX_NESTING } from '../data_limits';

/**
 * What a string is: `text` is prose or a value the model reads, `name` an
 * identifier the model calls or fills (tool, prompt, argument, property),
 * `uri` a resource address. Rules pick the roles they apply to.
 */
export type TextRole = 'text' | 'name' | 'uri';

export interface SurfaceText {
  kind: TargetKind;
  name: string;
  /** Path inside the definition: "description", "inputSchema.properties.mode.enum[2]". */
  field: string;
  role: TextRole;
  text: string;
}

/** Schema keywords whose value is a map of name -> subschema. */
const SCHEMA_MAPS = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'];
/** Schema keywords whose value is a subschema, or a list of them. */
const SCHEMA_VALUES = [
  'items', 'prefixItems', 'additionalItems', 'additionalProperties', 'unevaluatedItems', 'unevaluatedProperties',
  'contains', 'propertyNames', 'not', 'if', 'then', 'else', 'anyOf', 'oneOf', 'allOf',
];
/** Values the model reads as data: every primitive in them counts, numbers and booleans as their JSON text. */
const VALUE_KEYWORDS = ['enum', 'const', 'default', 'examples', 'example'];
/**
 * Structural keywords: machine-facing strings (types, regexes, references), not prose. Any other
 * keyword with a string (description, title, $comment, x-anything) is scanned: the model sees the
 * raw schema, so an instruction hidden in a made-up keyword reaches it too.
 */
const STRUCTURAL = new Set([
  '$schema', '$id', '$ref', '$anchor', '$dynamicRef', '$dynamicAnchor', '$vocabulary', 'type', 'format', 'pattern',
  'required', 'contentEncoding', 'contentMediaType', 'dependentRequired',
]);

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A key as a path segment: plain names as ".name", anything else quoted. */
const seg = (key: string) => (/^[A-Za-z_$][\w$-]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`);

export function surfaceTexts(surface: ServerSurface): SurfaceText[] {
  const out: SurfaceText[] = [];
  let kind: TargetKind = 'server';
  let name = '';
  const add = (field: string, text: unknown, role: TextRole = 'text') => {
    if (typeof text === 'string' && text !== '') out.push({ kind, name, field, role, text });
  };

  /** Data values (enum entries, defaults, examples): primitives as text, containers walked. */
  const walkValue = (value: unknown, field: string, depth: number) => {
    if (depth > MAX_NESTING) return;
    if (typeof value === 'string') add(field, value);
    else if (typeof value === 'number' || typeof value === 'boolean') add(field, String(value));
    else if (Array.isArray(value)) value.forEach((v, i) => walkValue(v, `${field}[${i}]`, depth + 1));
    else if (isObject(value)) for (const [k, v] of Object.entries(value)) walkValue(v, `${field}${seg(k)}`, depth + 1);
  };

  const walkSchema = (schema: unknown, field: string, depth: number) => {
    if (depth > MAX_NESTING || !isObject(schema)) return;
    for (const [key, value] of Object.entries(schema)) {
      const at = `${field}${seg(key)}`;
      if (SCHEMA_MAPS.includes(key) && isObject(value)) {
        for (const [prop, sub] of Object.entries(value)) {
          if (key === 'properties') add(`${at}${seg(prop)}`, prop, 'name');
          walkSchema(sub, `${at}${seg(prop)}`, depth + 1);
        }
      } else if (SCHEMA_VALUES.includes(key)) {
        if (Array.isArray(value)) value.forEach((sub, i) => walkSchema(sub, `${at}[${i}]`, depth + 1));
        else walkSchema(value, at, depth + 1);
      } else if (VALUE_KEYWORDS.includes(key)) {
        walkValue(value, at, depth + 1);
      } else if (!STRUCTURAL.has(key)) {
        // description, title, $comment and unknown keywords: their strings, at any depth.
        if (typeof value === 'string') add(at, value);
        else if (typeof value === 'object') walkStrings(value, at, depth + 1);
      }
    }
  };

  /** Only the strings of an unknown structure (numbers in it are not prose). */
  const walkStrings = (value: unknown, field: string, depth: number) => {
    if (depth > MAX_NESTING) return;
    if (typeof value === 'string') add(field, value);
    else if (Array.isArray(value)) value.forEach((v, i) => walkStrings(v, `${field}[${i}]`, depth + 1));
    else if (isObject(value)) for (const [k, v] of Object.entries(value)) walkStrings(v, `${field}${seg(k)}`, depth + 1);
  };

  kind = 'server';
  name = surface.server_info.name ?? 'server';
  add('instructions', surface.instructions);

  for (const tool of surface.tools) {
    kind = 'tool';
    name = tool.name;
    add('name', tool.name, 'name');
    add('title', tool.title);
    add('description', tool.description);
    walkSchema(tool.inputSchema, 'inputSchema', 1);
    walkSchema(tool.outputSchema, 'outputSchema', 1);
    // Hints are booleans (read by the annotation rules); any string in annotations is shown to someone.
    if (isObject(tool.annotations)) walkStrings(tool.annotations, 'annotations', 1);
  }
  for (const prompt of surface.prompts) {
    kind = 'prompt';
    name = prompt.name;
    add('name', prompt.name, 'name');
    add('title', prompt.title);
    add('description', prompt.description);
    for (const arg of prompt.arguments ?? []) {
      const at = `arguments${seg(arg.name)}`;
      add(`${at}.name`, arg.name, 'name');
      add(`${at}.title`, (arg as { title?: unknown }).title);
      add(`${at}.description`, arg.description);
    }
  }
  for (const resource of surface.resources) {
    kind = 'resource';
    name = resource.name;
    add('name', resource.name, 'name');
    add('title', resource.title);
    add('description', resource.description);
    add('uri', resource.uri, 'uri');
  }
  for (const template of surface.resource_templates) {
    kind = 'resource_template';
    name = template.name;
    add('name', template.name, 'name');
    add('title', template.title);
    add('description', template.description);
    add('uriTemplate', template.uriTemplate, 'uri');
  }
  return out;
}
