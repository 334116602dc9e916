/**
 * AnsibleModule's argument rules as implemented by src/ansible/validate.ts:
 * types and coercion, elements, defaults, choices, required*, aliases,
 * unknown options, suboptions, declared min/max and no_log collection.
 */
import { homedir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import type { ArgumentRules, OptionSpecs } from '../../src/ansible/spec';
import { ArgumentError, coerce, noLogOptionNames, pythonStr, toBool, validateArguments } from '../../src/ansible/validate';

const MOD = 'test_mod';

function check(options: OptionSpecs, input: Record<string, unknown>, rules: Omit<ArgumentRules, 'options'> = {}) {
  return validateArguments({ options, ...rules }, input, MOD);
}

/** Validate one option `x` of the given spec and return the outcome. */
function one(spec: Partial<OptionSpecs[string]>, value: unknown) {
  return check({ x: { description: 'x', ...spec } }, { x: value });
}

describe('pythonStr', () => {
  it('spells booleans and None like Python', () => {
    expect(pythonStr(true)).toBe('True');
    expect(pythonStr(false)).toBe('False');
    expect(pythonStr(null)).toBe('None');
    expect(pythonStr(undefined)).toBe('None');
    expect(pythonStr(42)).toBe('42');
    expect(pythonStr({ a: 1 })).toBe('{"a":1}');
  });
});

describe('type str', () => {
  it('keeps strings as they are', () => {
    const r = one({ type: 'str' }, ' hello ');
    expect(r.errors).toEqual([]);
    expect(r.params.x).toBe(' hello ');
    expect(r.warnings).toEqual([]);
  });

  it('is the default type', () => {
    const r = one({}, 7);
    expect(r.params.x).toBe('7');
  });

  it('converts a number to a string with Ansible\'s conversion warning', () => {
    const r = one({ type: 'str' }, 42);
    expect(r.errors).toEqual([]);
    expect(r.params.x).toBe('42');
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toBe(
      `The value "42" (type int) was converted to "'42'" (type string) for option x. If this does not look like what you expect, quote the entire value to ensure it does not change.`,
    );
  });

  it('converts booleans to Python spelling, with the warning naming type bool', () => {
    const r = one({ type: 'str' }, true);
    expect(r.params.x).toBe('True');
    expect(r.warnings[0]).toContain('"True" (type bool)');
  });

  it('reports floats as type float in the warning', () => {
    expect(one({ type: 'str' }, 1.5).warnings[0]).toContain('(type float)');
  });

  it('rejects a dict or a list', () => {
    expect(one({ type: 'str' }, { a: 1 }).errors).toEqual([
      "argument 'x' is of type dict and we were unable to convert to str: dict cannot be converted to a str",
    ]);
    expect(one({ type: 'str' }, ['a']).errors[0]).toContain('list cannot be converted to a str');
  });
});

describe('type int', () => {
  it('accepts integers', () => {
    expect(one({ type: 'int' }, 5).params.x).toBe(5);
  });

  it('converts an integer string ("42", " -7 ", "+3")', () => {
    expect(one({ type: 'int' }, '42').params.x).toBe(42);
    expect(one({ type: 'int' }, ' -7 ').params.x).toBe(-7);
    expect(one({ type: 'int' }, '+3').params.x).toBe(3);
  });

  it.each(['4.2', 'abc', '', '4e2', '0x10'])('rejects the string %j', (value) => {
    const r = one({ type: 'int' }, value);
    expect(r.errors).toEqual([`argument 'x' is of type str and we were unable to convert to int: str '${value}' cannot be converted to an int`]);
  });

  it('rejects a non-integer number and a boolean', () => {
    expect(one({ type: 'int' }, 4.2).errors[0]).toContain("float '4.2' cannot be converted to an int");
    expect(one({ type: 'int' }, true).errors[0]).toContain("bool 'True' cannot be converted to an int");
  });
});

describe('type float', () => {
  it('accepts numbers and numeric strings', () => {
    expect(one({ type: 'float' }, 4).params.x).toBe(4);
    expect(one({ type: 'float' }, '4.2').params.x).toBe(4.2);
    expect(one({ type: 'float' }, ' 1e3 ').params.x).toBe(1000);
  });

  it.each(['abc', '', '  '])('rejects %j', (value) => {
    const r = one({ type: 'float' }, value);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toContain('cannot be converted to a float');
  });

  it('rejects a list', () => {
    expect(one({ type: 'float' }, [1]).errors[0]).toContain("argument 'x' is of type list and we were unable to convert to float");
  });
});

describe('type bool', () => {
  it.each([
    ['yes', true],
    ['YES', true],
    ['On', true],
    ['1', true],
    ['true', true],
    ['True', true],
    ['y', true],
    ['t', true],
    [' yes ', true],
    ['no', false],
    ['NO', false],
    ['off', false],
    ['OFF', false],
    ['0', false],
    ['false', false],
    ['FaLsE', false],
    ['n', false],
    ['f', false],
    [true, true],
    [false, false],
    [1, true],
    [0, false],
  ])('%j -> %s', (value, expected) => {
    const r = one({ type: 'bool' }, value);
    expect(r.errors).toEqual([]);
    expect(r.params.x).toBe(expected);
  });

  it('rejects "maybe" and lists the valid booleans', () => {
    const r = one({ type: 'bool' }, 'maybe');
    expect(r.errors).toHaveLength(1);
    const msg = r.errors[0];
    expect(msg).toContain("argument 'x' is of type str and we were unable to convert to bool");
    expect(msg).toContain("The value 'maybe' is not a valid boolean.");
    for (const b of ['y', 'yes', 'on', '1', 'true', 't', 'n', 'no', 'off', '0', 'false', 'f']) expect(msg).toContain(`'${b}'`);
  });

  it('rejects other numbers', () => {
    expect(() => toBool(2)).toThrow(ArgumentError);
    expect(() => toBool(2)).toThrow("The value '2' is not a valid boolean");
  });

  it('rejects null through toBool', () => {
    expect(() => toBool(null)).toThrow("The value 'None' is not a valid boolean");
  });
});

describe('type list', () => {
  it('keeps a list', () => {
    expect(one({ type: 'list' }, ['a', 1]).params.x).toEqual(['a', 1]);
  });

  it('splits a comma separated string', () => {
    expect(one({ type: 'list' }, 'a,b,c').params.x).toEqual(['a', 'b', 'c']);
    expect(one({ type: 'list' }, 'single').params.x).toEqual(['single']);
  });

  it('wraps a number or boolean in a one-element list of str', () => {
    expect(one({ type: 'list' }, 5).params.x).toEqual(['5']);
    expect(one({ type: 'list' }, true).params.x).toEqual(['True']);
  });

  it('rejects a dict', () => {
    expect(one({ type: 'list' }, { a: 1 }).errors).toEqual([
      "argument 'x' is of type dict and we were unable to convert to list: dict cannot be converted to a list",
    ]);
  });
});

describe('type dict', () => {
  it('keeps a dict', () => {
    expect(one({ type: 'dict' }, { a: 1 }).params.x).toEqual({ a: 1 });
  });

  it('parses a JSON string', () => {
    expect(one({ type: 'dict' }, '{"a": 1, "b": [true]}').params.x).toEqual({ a: 1, b: [true] });
  });

  it('reports a broken JSON string', () => {
    expect(one({ type: 'dict' }, '{"a": ').errors[0]).toContain('unable to evaluate string as dictionary');
  });

  it('parses a key=value string, with commas or spaces and quotes', () => {
    expect(one({ type: 'dict' }, 'a=1, b=two').params.x).toEqual({ a: '1', b: 'two' });
    expect(one({ type: 'dict' }, 'a=1 b="x y" c=\'p,q\'').params.x).toEqual({ a: '1', b: 'x y', c: 'p,q' });
    expect(one({ type: 'dict' }, 'url=http://h/?q=1').params.x).toEqual({ url: 'http://h/?q=1' });
  });

  it('rejects text that is neither JSON nor key=value', () => {
    expect(one({ type: 'dict' }, 'just words').errors).toEqual([
      "argument 'x' is of type str and we were unable to convert to dict: dictionary requested, could not parse JSON or key=value",
    ]);
    expect(one({ type: 'dict' }, 'a=1 loose').errors[0]).toContain('could not parse JSON or key=value');
  });

  it('rejects a list and a number', () => {
    expect(one({ type: 'dict' }, [1]).errors[0]).toContain('is of type list and we were unable to convert to dict');
    expect(one({ type: 'dict' }, 3).errors[0]).toContain('is of type int and we were unable to convert to dict');
  });
});

describe('type path', () => {
  const saved = process.env.MCP_AUDIT_TEST_DIR;
  afterEach(() => {
    if (saved === undefined) delete process.env.MCP_AUDIT_TEST_DIR;
    else process.env.MCP_AUDIT_TEST_DIR = saved;
  });

  it('expands ~ and ~/ to the home directory', () => {
    expect(one({ type: 'path' }, '~').params.x).toBe(homedir());
    expect(one({ type: 'path' }, '~/data/x.json').params.x).toBe(`${homedir()}/data/x.json`);
  });

  it('does not expand a ~ that is not at the start or is ~user', () => {
    expect(one({ type: 'path' }, '/tmp/~/x').params.x).toBe('/tmp/~/x');
    expect(one({ type: 'path' }, '~other/x').params.x).toBe('~other/x');
  });

  it('expands environment variables and leaves unknown ones', () => {
    process.env.MCP_AUDIT_TEST_DIR = '/srv/data';
    expect(one({ type: 'path' }, '$MCP_AUDIT_TEST_DIR/a').params.x).toBe('/srv/data/a');
    expect(one({ type: 'path' }, '${MCP_AUDIT_TEST_DIR}/b').params.x).toBe('/srv/data/b');
    expect(one({ type: 'path' }, '$MCP_AUDIT_SURELY_UNSET_VAR/c').params.x).toBe('$MCP_AUDIT_SURELY_UNSET_VAR/c');
  });
});

describe('type raw', () => {
  it('passes any value through unchanged', () => {
    const value = { a: [1, 'b'], c: null };
    expect(one({ type: 'raw' }, value).params.x).toBe(value);
    expect(one({ type: 'raw' }, 42).params.x).toBe(42);
    expect(one({ type: 'raw' }, 42).warnings).toEqual([]);
  });
});

describe('type json', () => {
  it('serialises a dict or list to JSON text', () => {
    expect(one({ type: 'json' }, { a: [1, 2] }).params.x).toBe('{"a":[1,2]}');
    expect(one({ type: 'json' }, [1]).params.x).toBe('[1]');
  });

  it('keeps a string', () => {
    expect(one({ type: 'json' }, '{"a": 1}').params.x).toBe('{"a": 1}');
  });

  it('rejects a number', () => {
    expect(one({ type: 'json' }, 3).errors[0]).toContain('int cannot be converted to json');
  });
});

describe('coerce (direct)', () => {
  it('throws ArgumentError, not a generic error', () => {
    expect(() => coerce('abc', 'int')).toThrow(ArgumentError);
  });

  it('labels the str conversion warning with the given label', () => {
    const warnings: string[] = [];
    coerce(1, 'str', warnings, 'option foo[0]');
    expect(warnings[0]).toContain('for option foo[0].');
  });
});

describe('elements', () => {
  it('coerces each element of a list', () => {
    const r = one({ type: 'list', elements: 'int' }, ['1', 2, '3']);
    expect(r.errors).toEqual([]);
    expect(r.params.x).toEqual([1, 2, 3]);
  });

  it('coerces the elements of a list given as a comma string', () => {
    expect(one({ type: 'list', elements: 'int' }, '1,2').params.x).toEqual([1, 2]);
    expect(one({ type: 'list', elements: 'bool' }, 'yes,off').params.x).toEqual([true, false]);
  });

  it('warns about element conversions with the element index', () => {
    const r = one({ type: 'list', elements: 'str' }, ['a', 5]);
    expect(r.params.x).toEqual(['a', '5']);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toContain('for option x[1].');
  });

  it('reports an element that cannot be converted', () => {
    const r = one({ type: 'list', elements: 'int' }, ['1', 'two']);
    expect(r.errors).toEqual([
      "Elements value for option 'x' is of type str and we were unable to convert to int: str 'two' cannot be converted to an int",
    ]);
  });
});

describe('defaults', () => {
  it('applies a default when the option is absent or null', () => {
    const options: OptionSpecs = { n: { description: 'n', type: 'int', default: 30 } };
    expect(check(options, {}).params.n).toBe(30);
    expect(check(options, { n: null }).params.n).toBe(30);
    expect(check(options, { n: 5 }).params.n).toBe(5);
  });

  it('sets options without a default to null', () => {
    const r = check({ a: { description: 'a' } }, {});
    expect(r.params).toHaveProperty('a', null);
  });

  it('coerces defaults like given values', () => {
    expect(check({ b: { description: 'b', type: 'bool', default: 'yes' } }, {}).params.b).toBe(true);
  });

  it('clones defaults, so a mutated result never changes the spec or the next task', () => {
    const options: OptionSpecs = {
      l: { description: 'l', type: 'list', default: [] },
      d: { description: 'd', type: 'dict', default: { nested: { k: 1 } } },
    };
    const first = check(options, {});
    first.params.l.push('leak');
    first.params.d.nested.k = 99;
    expect(options.l.default).toEqual([]);
    expect(options.d.default).toEqual({ nested: { k: 1 } });
    const second = check(options, {});
    expect(second.params.l).toEqual([]);
    expect(second.params.d).toEqual({ nested: { k: 1 } });
    expect(second.params.l).not.toBe(first.params.l);
  });
});

describe('env_fallback', () => {
  const vars = ['MCP_AUDIT_UNIT_FIRST', 'MCP_AUDIT_UNIT_SECOND'];
  afterEach(() => vars.forEach((v) => delete process.env[v]));
  const options: OptionSpecs = {
    token: { description: 't', required: true, no_log: true, env_fallback: vars },
    retries: { description: 'r', type: 'int', default: 3, env_fallback: ['MCP_AUDIT_UNIT_SECOND'] },
  };

  it('reads the first variable that is set when the option is not given', () => {
    process.env.MCP_AUDIT_UNIT_SECOND = 'from-second';
    expect(check(options, {}).params.token).toBe('from-second');
    process.env.MCP_AUDIT_UNIT_FIRST = 'from-first';
    expect(check(options, {}).params.token).toBe('from-first');
  });

  it('prefers a given value, and satisfies required from the environment', () => {
    process.env.MCP_AUDIT_UNIT_FIRST = 'env';
    expect(check(options, { token: 'given' }).params.token).toBe('given');
    expect(check(options, {}).errors).toEqual([]);
    delete process.env.MCP_AUDIT_UNIT_FIRST;
    expect(check(options, {}).errors).toEqual(['missing required arguments: token']);
  });

  it('coerces the environment string, before the default applies', () => {
    process.env.MCP_AUDIT_UNIT_SECOND = '7';
    expect(check(options, { token: 'x' }).params.retries).toBe(7);
    process.env.MCP_AUDIT_UNIT_SECOND = 'seven';
    expect(check(options, { token: 'x' }).errors[0]).toContain("argument 'retries' is of type str and we were unable to convert to int");
  });

  it('treats a value read from the environment as a no_log value', () => {
    process.env.MCP_AUDIT_UNIT_FIRST = 'env-secret-value';
    expect(check(options, {}).noLogValues.has('env-secret-value')).toBe(true);
  });
});

describe('choices', () => {
  const options: OptionSpecs = {
    mode: { description: 'm', choices: ['a', 'b'] },
    level: { description: 'l', type: 'int', choices: [1, 2] },
    tags: { description: 't', type: 'list', elements: 'str', choices: ['x', 'y', 'z'] },
  };

  it('accepts a listed value', () => {
    expect(check(options, { mode: 'a', level: '2', tags: ['x', 'z'] }).errors).toEqual([]);
  });

  it('rejects a scalar outside the choices', () => {
    expect(check(options, { mode: 'c' }).errors).toEqual(['value of mode must be one of: a, b, got: c']);
    expect(check(options, { level: 3 }).errors).toEqual(['value of level must be one of: 1, 2, got: 3']);
  });

  it('rejects list values outside the choices, naming each', () => {
    expect(check(options, { tags: ['x', 'q', 'w'] }).errors).toEqual(['value of tags must be one or more of: x, y, z. Got no match for: q, w']);
  });

  it('does not check an absent option against its choices', () => {
    expect(check(options, {}).errors).toEqual([]);
  });
});

describe('min and max', () => {
  const options: OptionSpecs = {
    timeout: { description: 't', type: 'int', min: 1, max: 2147483 },
    retries: { description: 'r', type: 'int', min: 0 },
    ratio: { description: 'q', type: 'float', max: 1.5 },
  };

  it('accepts values within the range, bounds included, after coercion', () => {
    expect(check(options, { timeout: '1', retries: 0, ratio: 1.5 }).errors).toEqual([]);
    expect(check(options, { timeout: 2147483 }).params.timeout).toBe(2147483);
  });

  it('rejects a value outside the range, saying what is allowed', () => {
    expect(check(options, { timeout: 0 }).errors).toEqual(['value of timeout must be between 1 and 2147483, got: 0']);
    expect(check(options, { timeout: -5 }).errors).toEqual(['value of timeout must be between 1 and 2147483, got: -5']);
    expect(check(options, { timeout: '400000000' }).errors).toEqual(['value of timeout must be between 1 and 2147483, got: 400000000']);
    expect(check(options, { retries: -1 }).errors).toEqual(['value of retries must be at least 0, got: -1']);
    expect(check(options, { ratio: 2 }).errors).toEqual(['value of ratio must be at most 1.5, got: 2']);
  });

  it('checks a default like a given value, and leaves an absent option alone', () => {
    expect(check({ n: { description: 'n', type: 'int', default: 0, min: 1 } }, {}).errors).toEqual(['value of n must be at least 1, got: 0']);
    expect(check(options, {}).errors).toEqual([]);
  });

  it('reports a value that is no number as a type error only', () => {
    expect(check(options, { timeout: 'soon' }).errors).toEqual(["argument 'timeout' is of type str and we were unable to convert to int: str 'soon' cannot be converted to an int"]);
  });

  it('applies in suboptions, naming where', () => {
    const nested: OptionSpecs = { tests: { description: 't', type: 'list', elements: 'dict', options: { timeout: { description: 't', type: 'int', min: 1 } } } };
    expect(check(nested, { tests: [{ timeout: 0 }] }).errors).toEqual(['value of timeout must be at least 1, got: 0 found in tests[0]']);
  });
});

describe('required', () => {
  const options: OptionSpecs = {
    zeta: { description: 'z', required: true },
    alpha: { description: 'a', required: true },
    mid: { description: 'm', required: true },
    optional: { description: 'o' },
  };

  it('lists every missing name, sorted', () => {
    expect(check(options, {}).errors).toEqual(['missing required arguments: alpha, mid, zeta']);
  });

  it('treats null as missing', () => {
    expect(check(options, { alpha: 'x', mid: null, zeta: 'z' }).errors).toEqual(['missing required arguments: mid']);
  });

  it('passes when all are given', () => {
    expect(check(options, { alpha: 'a', mid: 'm', zeta: 'z' }).errors).toEqual([]);
  });
});

describe('required_if', () => {
  const options: OptionSpecs = {
    transport: { description: 't', default: 'stdio', choices: ['stdio', 'http'] },
    command: { description: 'c' },
    url: { description: 'u' },
    key: { description: 'k' },
    token: { description: 't' },
  };

  it('requires all listed options (default variant)', () => {
    const rules = { required_if: [['transport', 'http', ['url', 'key']]] as const };
    expect(check(options, { transport: 'http' }, rules).errors).toEqual(['transport is http but all of the following are missing: url, key']);
    expect(check(options, { transport: 'http', url: 'u' }, rules).errors).toEqual(['transport is http but all of the following are missing: key']);
    expect(check(options, { transport: 'http', url: 'u', key: 'k' }, rules).errors).toEqual([]);
  });

  it('requires any one of the listed options with the any variant', () => {
    const rules = { required_if: [['transport', 'http', ['key', 'token'], true]] as const };
    expect(check(options, { transport: 'http' }, rules).errors).toEqual(['transport is http but any of the following are missing: key, token']);
    expect(check(options, { transport: 'http', token: 't' }, rules).errors).toEqual([]);
  });

  it('applies to the default value', () => {
    const rules = { required_if: [['transport', 'stdio', ['command']]] as const };
    expect(check(options, {}, rules).errors).toEqual(['transport is stdio but all of the following are missing: command']);
  });

  it('does nothing when the value differs', () => {
    const rules = { required_if: [['transport', 'http', ['url']]] as const };
    expect(check(options, { transport: 'stdio' }, rules).errors).toEqual([]);
  });

  it('compares after coercion, with Python spelling for booleans in the message', () => {
    const rules = { required_if: [['flag', true, ['other']]] as const };
    const opts: OptionSpecs = { flag: { description: 'f', type: 'bool' }, other: { description: 'o' } };
    expect(check(opts, { flag: 'yes' }, rules).errors).toEqual(['flag is True but all of the following are missing: other']);
  });
});

describe('mutually_exclusive', () => {
  const options: OptionSpecs = { a: { description: 'a' }, b: { description: 'b' }, c: { description: 'c' } };
  const rules = { mutually_exclusive: [['a', 'b']] };

  it('rejects options given together', () => {
    expect(check(options, { a: '1', b: '2' }, rules).errors).toEqual(['parameters are mutually exclusive: a|b']);
  });

  it('accepts one of them, and ignores nulls', () => {
    expect(check(options, { a: '1', c: '3' }, rules).errors).toEqual([]);
    expect(check(options, { a: '1', b: null }, rules).errors).toEqual([]);
  });
});

describe('required_together', () => {
  const options: OptionSpecs = { user: { description: 'u' }, password: { description: 'p' } };
  const rules = { required_together: [['user', 'password']] };

  it('rejects one without the other', () => {
    expect(check(options, { user: 'u' }, rules).errors).toEqual(['parameters are required together: user, password']);
  });

  it('accepts both or none', () => {
    expect(check(options, { user: 'u', password: 'p' }, rules).errors).toEqual([]);
    expect(check(options, {}, rules).errors).toEqual([]);
  });
});

describe('required_one_of', () => {
  const options: OptionSpecs = { a: { description: 'a' }, b: { description: 'b' } };
  const rules = { required_one_of: [['a', 'b']] };

  it('rejects none of them', () => {
    expect(check(options, {}, rules).errors).toEqual(['one of the following is required: a, b']);
  });

  it('accepts any one', () => {
    expect(check(options, { b: 'x' }, rules).errors).toEqual([]);
  });
});

describe('aliases', () => {
  const options: OptionSpecs = {
    tool_name: { description: 't', required: true, aliases: ['name'] },
    tool_arguments: { description: 'a', type: 'dict', default: {}, aliases: ['arguments', 'args'] },
  };

  it('maps an alias to its option', () => {
    const r = check(options, { name: 'echo', args: { m: 1 } });
    expect(r.errors).toEqual([]);
    expect(r.params.tool_name).toBe('echo');
    expect(r.params.tool_arguments).toEqual({ m: 1 });
    expect(r.params).not.toHaveProperty('name');
    expect(r.params).not.toHaveProperty('args');
  });

  it('satisfies required through the alias', () => {
    expect(check(options, { name: 'x' }).errors).toEqual([]);
  });

  it('warns when an option and its alias are both set to different values', () => {
    const r = check(options, { tool_name: 'a', name: 'b' });
    expect(r.warnings).toContain('Both option tool_name and its alias name are set.');
  });
});

describe('unknown options', () => {
  const options: OptionSpecs = {
    tool_name: { description: 't', aliases: ['name'] },
    timeout: { description: 'x', type: 'int' },
    alpha: { description: 'a' },
  };

  it('are rejected with the sorted unknown names and the valid ones, aliases as `name (alias)`', () => {
    const r = check(options, { zzz: 1, bogus: 2, alpha: 'a' });
    expect(r.errors).toEqual([
      `Unsupported parameters for (${MOD}) module: bogus, zzz. Supported parameters include: alpha, timeout, tool_name (name).`,
    ]);
  });

  it('does not count an alias as unknown', () => {
    expect(check(options, { name: 'x' }).errors).toEqual([]);
  });
});

describe('suboptions', () => {
  const options: OptionSpecs = {
    conn: {
      description: 'c',
      type: 'dict',
      options: {
        host: { description: 'h', required: true },
        port: { description: 'p', type: 'int', default: 80 },
        secret: { description: 's', no_log: true },
      },
    },
    items: {
      description: 'i',
      type: 'list',
      elements: 'dict',
      options: {
        name: { description: 'n', required: true },
        mode: { description: 'm', choices: ['r', 'w'], default: 'r' },
      },
    },
  };

  it('validates a dict and applies sub-defaults and coercion', () => {
    const r = check(options, { conn: { host: 'h', port: '8080' } });
    expect(r.errors).toEqual([]);
    expect(r.params.conn).toEqual({ host: 'h', port: 8080, secret: null });
  });

  it('leaves an absent dict option null', () => {
    expect(check(options, {}).params.conn).toBeNull();
  });

  it('suffixes errors in a dict with " found in <parent>"', () => {
    const r = check(options, { conn: { port: 'abc', extra: 1 } });
    expect(r.errors).toContain(`Unsupported parameters for (${MOD}) module: extra found in conn. Supported parameters include: host, port, secret.`);
    expect(r.errors).toContain('missing required arguments: host found in conn');
    expect(r.errors.some((e) => e.startsWith("argument 'port' is of type str found in conn and we were unable to convert to int"))).toBe(true);
  });

  it('validates each dict of a list, naming the element', () => {
    const r = check(options, { items: [{ name: 'a' }, { mode: 'x' }] });
    expect(r.params.items[0]).toEqual({ name: 'a', mode: 'r' });
    expect(r.errors).toContain('missing required arguments: name found in items[1]');
    expect(r.errors).toContain('value of mode must be one of: r, w, got: x found in items[1]');
    expect(r.errors).toHaveLength(2);
  });

  it('converts key=value elements to dicts before validating them', () => {
    const r = check(options, { items: ['name=a mode=w'] });
    expect(r.errors).toEqual([]);
    expect(r.params.items).toEqual([{ name: 'a', mode: 'w' }]);
  });

  it('nests the parent names for deeper levels', () => {
    const deep: OptionSpecs = {
      outer: { description: 'o', type: 'dict', options: { inner: { description: 'i', type: 'dict', options: { leaf: { description: 'l', required: true } } } } },
    };
    expect(check(deep, { outer: { inner: {} } }).errors).toEqual(['missing required arguments: leaf found in outer.inner']);
  });
});

describe('no_log values', () => {
  it('collects the value of a no_log option', () => {
    const r = check({ token: { description: 't', no_log: true }, other: { description: 'o' } }, { token: 'hunter2', other: 'visible' });
    expect([...r.noLogValues]).toEqual(['hunter2']);
  });

  it('collects every leaf of a dict or list, numbers as strings, but not booleans or empty strings', () => {
    const r = check(
      { env: { description: 'e', type: 'dict', no_log: true } },
      { env: { A: 'alpha-secret', B: { C: 'nested-secret' }, D: ['list-secret', 1234], E: true, F: false, G: '', H: null } },
    );
    expect([...r.noLogValues].sort()).toEqual(['1234', 'alpha-secret', 'list-secret', 'nested-secret']);
  });

  it('collects values even when validation fails (bad type, unknown option, missing required)', () => {
    const r = check(
      { pin: { description: 'p', type: 'int', no_log: true }, req: { description: 'r', required: true } },
      { pin: 'not-a-number-secret', unknown: 1 },
    );
    expect(r.errors.length).toBeGreaterThanOrEqual(3);
    expect(r.noLogValues.has('not-a-number-secret')).toBe(true);
  });

  it('collects no_log suboptions', () => {
    const r = check(
      { conn: { description: 'c', type: 'dict', options: { password: { description: 'p', no_log: true }, user: { description: 'u' } } } },
      { conn: { user: 'bob', password: 'sub-secret' } },
    );
    expect([...r.noLogValues]).toEqual(['sub-secret']);
  });

  it('names the no_log options', () => {
    expect(noLogOptionNames({ a: { description: 'a', no_log: true }, b: { description: 'b' }, c: { description: 'c', no_log: true } })).toEqual(['a', 'c']);
  });
});
