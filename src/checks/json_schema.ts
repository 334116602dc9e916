/**
 * JSON Schema checks for tool arguments (inputSchema) and structured results
 * (outputSchema), with ajv. Compiled validators are cached per schema object,
 * so a pooled session's cached tool list compiles each schema once.
 */
import Ajv2020 from 'ajv/dist/2020';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

let draft7: Ajv | undefined;
let draft2020: Ajv2020 | undefined;
const compiled = new WeakMap<object, ValidateFunction | string>();

function ajvFor(schema: Record<string, unknown>): Ajv {
  // addUsedSchema: false, so two schemas with the same $id (a tool list fetched again) do not clash ("already exists").
  const options = { strict: false, allErrors: true, validateFormats: true, addUsedSchema: false } as const;
  const declared = typeof schema.$schema === 'string' ? schema.$schema : '';
  if (/draft-0[67]/.test(declared)) return (draft7 ??= addFormats(new Ajv(options)) as Ajv);
  return (draft2020 ??= addFormats(new Ajv2020(options) as unknown as Ajv) as unknown as Ajv2020) as unknown as Ajv;
}

function compile(schema: Record<string, unknown>): ValidateFunction | string {
  let v = compiled.get(schema);
  if (!v) {
    const copy = { ...schema };
    // Dialects without a meta-schema in ajv are validated without $schema: draft-06 as draft-07,
    // the others (draft-04, 2019-09) as 2020-12; tool schemas rarely differ.
    if (typeof copy.$schema === 'string' && !/draft-07|2020-12/.test(copy.$schema)) delete copy.$schema;
    try {
      v = ajvFor(schema).compile(copy);
    } catch (e) {
      v = `the schema itself is invalid: ${(e as Error).message}`;
    }
    compiled.set(schema, v);
  }
  return v;
}

function describe(error: ErrorObject, root: string): string {
  const path = root + error.instancePath.replace(/\/([^/]*)/g, (_, seg: string) => (/^\d+$/.test(seg) ? `[${seg}]` : `.${seg.replace(/~1/g, '/').replace(/~0/g, '~')}`));
  const extra = error.keyword === 'enum' ? ` (${(error.params as any).allowedValues.map((v: unknown) => JSON.stringify(v)).join(', ')})` : '';
  const add = error.keyword === 'additionalProperties' ? ` '${(error.params as any).additionalProperty}'` : '';
  return `${path} ${error.message}${add}${extra} (rule: ${error.keyword} at ${error.schemaPath})`;
}

/** Errors of `value` against `schema`, each naming the path and rule; [] when valid. */
export function schemaErrors(schema: Record<string, unknown> | undefined, value: unknown, root: string): string[] {
  if (!schema || typeof schema !== 'object') return [];
  const validate = compile(schema);
  if (typeof validate === 'string') return [`${root}: ${validate}`];
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => describe(e, root));
}
