/**
 * JSON Schema checks of tool arguments and structured results
 * (src/checks/json_schema.ts): messages name the path and the rule.
 */
import { describe, expect, it } from 'vitest';
import { schemaErrors } from '../../src/checks/json_schema';

const DRAFT7 = 'http://json-schema.org/draft-07/schema#';
const DRAFT2020 = 'https://json-schema.org/draft/2020-12/schema';

const argsSchema = (dialect?: string) => ({
  ...(dialect ? { $schema: dialect } : {}),
  type: 'object',
  properties: {
    a: { type: 'string' },
    mode: { enum: ['fast', 'slow'] },
    count: { type: 'integer', minimum: 1 },
  },
  required: ['a', 'mode'],
  additionalProperties: false,
});

describe('schemaErrors', () => {
  describe('no schema', () => {
    it('returns [] without a schema', () => {
      expect(schemaErrors(undefined, { anything: 1 }, 'tool_arguments')).toEqual([]);
    });
  });

  describe.each([
    ['draft-07', DRAFT7],
    ['2020-12', DRAFT2020],
    ['no $schema', undefined],
  ])('%s', (_, dialect) => {
    const schema = argsSchema(dialect);

    it('accepts a valid value', () => {
      expect(schemaErrors(schema, { a: 'x', mode: 'fast', count: 2 }, 'tool_arguments')).toEqual([]);
    });

    it('names a missing required property', () => {
      expect(schemaErrors(schema, { a: 'x' }, 'tool_arguments')).toEqual(["tool_arguments must have required property 'mode' (rule: required at #/required)"]);
    });

    it('names the path and rule of a wrong type', () => {
      expect(schemaErrors(schema, { a: 1, mode: 'fast' }, 'tool_arguments')).toEqual(['tool_arguments.a must be string (rule: type at #/properties/a/type)']);
    });

    it('lists the allowed values of an enum', () => {
      expect(schemaErrors(schema, { a: 'x', mode: 'medium' }, 'tool_arguments')).toEqual([
        'tool_arguments.mode must be equal to one of the allowed values ("fast", "slow") (rule: enum at #/properties/mode/enum)',
      ]);
    });

    it('names an additional property', () => {
      expect(schemaErrors(schema, { a: 'x', mode: 'fast', extra: true }, 'tool_arguments')).toEqual([
        "tool_arguments must NOT have additional properties 'extra' (rule: additionalProperties at #/additionalProperties)",
      ]);
    });

    it('reports every error at once', () => {
      const errors = schemaErrors(schema, { a: 1, count: 0, extra: 1 }, 'tool_arguments');
      expect(errors).toHaveLength(4);
      expect(errors.join('\n')).toContain("required property 'mode'");
      expect(errors.join('\n')).toContain("additional properties 'extra'");
      expect(errors.join('\n')).toContain('tool_arguments.a must be string');
      expect(errors.join('\n')).toContain('tool_arguments.count must be >= 1 (rule: minimum at #/properties/count/minimum)');
    });
  });

  describe('paths', () => {
    it('writes array indexes as [n], also nested', () => {
      const schema = {
        type: 'object',
        properties: { rows: { type: 'array', items: { type: 'array', items: { type: 'object', properties: { n: { type: 'integer' } } } } } },
      };
      expect(schemaErrors(schema, { rows: [[{ n: 1 }], [{ n: 2 }, { n: 'x' }]] }, 'structured_content')).toEqual([
        'structured_content.rows[1][1].n must be integer (rule: type at #/properties/rows/items/items/properties/n/type)',
      ]);
    });

    it('validates a top-level array with [n] right after the root', () => {
      expect(schemaErrors({ type: 'array', items: { type: 'string' } }, ['a', 2], 'result')).toEqual(['result[1] must be string (rule: type at #/items/type)']);
    });

    it('unescapes JSON pointer escapes in property names', () => {
      const schema = { type: 'object', properties: { 'a/b': { type: 'string' }, 'm~n': { type: 'string' } } };
      expect(schemaErrors(schema, { 'a/b': 1, 'm~n': 2 }, 'args')).toEqual([
        'args.a/b must be string (rule: type at #/properties/a~1b/type)',
        'args.m~n must be string (rule: type at #/properties/m~0n/type)',
      ]);
    });

    it('uses the given root name', () => {
      expect(schemaErrors({ type: 'string' }, 1, 'anything')).toEqual(['anything must be string (rule: type at #/type)']);
    });
  });

  describe('dialects', () => {
    it('2020-12 keywords (prefixItems) work with the 2020-12 $schema', () => {
      const schema = { $schema: DRAFT2020, type: 'array', prefixItems: [{ type: 'string' }, { type: 'integer' }] };
      expect(schemaErrors(schema, ['a', 1], 'v')).toEqual([]);
      expect(schemaErrors(schema, ['a', 'b'], 'v')).toEqual(['v[1] must be integer (rule: type at #/prefixItems/1/type)']);
    });

    it('draft-07 array items work with the draft-07 $schema', () => {
      const schema = { $schema: DRAFT7, type: 'array', items: [{ type: 'string' }, { type: 'integer' }] };
      expect(schemaErrors(schema, ['a', 'b'], 'v')).toEqual(['v[1] must be integer (rule: type at #/items/1/type)']);
    });

    it('accepts the draft-07 URI without a trailing #', () => {
      expect(schemaErrors({ $schema: 'http://json-schema.org/draft-07/schema', type: 'string' }, 1, 'v')).toEqual(['v must be string (rule: type at #/type)']);
    });

    it.each(['http://json-schema.org/draft-06/schema#', 'http://json-schema.org/draft-04/schema#', 'https://json-schema.org/draft/2019-09/schema'])(
      'validates a schema declaring %s instead of calling it invalid',
      (dialect) => {
        const schema = { $schema: dialect, type: 'object', required: ['a'] };
        expect(schemaErrors(schema, {}, 'v')).toEqual(["v must have required property 'a' (rule: required at #/required)"]);
        expect(schemaErrors(schema, { a: 1 }, 'v')).toEqual([]);
      },
    );

    it('checks formats', () => {
      expect(schemaErrors({ type: 'string', format: 'email' }, 'not-an-email', 'v')).toEqual(['v must match format "email" (rule: format at #/format)']);
      expect(schemaErrors({ type: 'string', format: 'email' }, 'a@example.com', 'v')).toEqual([]);
    });
  });

  describe('invalid schemas', () => {
    it('reports a schema that is itself invalid, once per call, without throwing', () => {
      const schema = { type: 'nonsense' };
      const errors = schemaErrors(schema, 1, 'tool_arguments');
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/^tool_arguments: the schema itself is invalid: /);
      expect(schemaErrors(schema, 1, 'tool_arguments')).toEqual(errors);
    });

    it('reports an unresolvable $ref as an invalid schema', () => {
      expect(schemaErrors({ $ref: '#/definitions/missing' }, 1, 'v')[0]).toMatch(/^v: the schema itself is invalid: /);
    });
  });

  describe('compiling', () => {
    it('gives the same answers for a cached schema object', () => {
      const schema = { type: 'object', required: ['x'] };
      expect(schemaErrors(schema, {}, 'v')).toHaveLength(1);
      expect(schemaErrors(schema, { x: 1 }, 'v')).toEqual([]);
      expect(schemaErrors(schema, {}, 'w')).toEqual(["w must have required property 'x' (rule: required at #/required)"]);
    });

    it('does not change the schema it is given', () => {
      const schema = { $schema: 'http://json-schema.org/draft-04/schema#', type: 'string' };
      schemaErrors(schema, 1, 'v');
      expect(schema).toEqual({ $schema: 'http://json-schema.org/draft-04/schema#', type: 'string' });
    });

    it('handles two schemas with the same $id (a tool list fetched again)', () => {
      const first = { $id: 'https://example.com/tools/echo.json', type: 'string' };
      const again = { $id: 'https://example.com/tools/echo.json', type: 'number' };
      expect(schemaErrors(first, 1, 'v')).toEqual(['v must be string (rule: type at #/type)']);
      expect(schemaErrors(again, 'x', 'v')).toEqual(['v must be number (rule: type at #/type)']);
    });

    it('resolves a $ref to its own $id', () => {
      const schema = {
        $id: 'https://example.com/tools/sum.json',
        type: 'object',
        properties: { a: { $ref: 'https://example.com/tools/sum.json#/$defs/num' } },
        $defs: { num: { type: 'number' } },
      };
      expect(schemaErrors(schema, { a: 1 }, 'v')).toEqual([]);
      expect(schemaErrors(schema, { a: 'x' }, 'v')[0]).toMatch(/^v\.a must be number/);
    });
  });
});
