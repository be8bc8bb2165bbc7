/**
 * The op codes the addon switches on are written twice: as C++ enums in
 * binding/kernels.h and as const enums of the same names in src/addon.ts.
 * This suite parses both files and fails, naming the difference, when the
 * enums or their members or numbers differ. Member kX in C++ is X in
 * TypeScript, after an enum's own prefix (kReduceMax is ReduceOp.Max).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageDir } from '../src/addon.js';

/** The shared enums and the prefix of their C++ member names. */
const CPP_PREFIX: Record<string, string> = {
  BinaryOp: 'k',
  UnaryOp: 'k',
  ReduceOp: 'kReduce',
  Act: 'kAct',
  BoolOp: 'k',
  SgmcmcKind: 'k',
};

/** `src` without its comments (block and line). */
function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
}

/**
 * The members of an enum body (`A = 1, B, C = 5,`) as name → number; a member
 * without an initialiser is one more than the one before, as in both languages.
 */
function members(body: string): Map<string, number> {
  const out = new Map<string, number>();
  let next = 0;
  for (const item of body.split(',')) {
    const text = item.trim();
    if (text === '') continue;
    const m = /^([A-Za-z_]\w*)\s*(?:=\s*(-?\d+))?$/.exec(text);
    assert.ok(m, `cannot read enum member "${text}" (only NAME or NAME = integer)`);
    const value = m[2] !== undefined ? Number(m[2]) : next;
    assert.ok(!out.has(m[1]), `member ${m[1]} appears twice`);
    out.set(m[1], value);
    next = value + 1;
  }
  return out;
}

/** Every enum `pattern` finds in `src` (group 1 the name, group 2 the body). */
function enums(src: string, pattern: RegExp): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const m of stripComments(src).matchAll(pattern)) out.set(m[1], members(m[2]));
  return out;
}

/** The enums of binding/kernels.h, member names in TypeScript's spelling. */
function cppEnums(): Map<string, Map<string, number>> {
  const src = readFileSync(join(packageDir(), 'binding', 'kernels.h'), 'utf8');
  const out = new Map<string, Map<string, number>>();
  for (const [name, list] of enums(src, /\benum\s+(\w+)\s*:\s*int\s*\{([^}]*)\}/g)) {
    const prefix = CPP_PREFIX[name] ?? 'k';
    const renamed = new Map<string, number>();
    for (const [member, value] of list) {
      assert.ok(member.startsWith(prefix), `kernels.h: ${name}::${member} lacks prefix ${prefix}`);
      renamed.set(member.slice(prefix.length), value);
    }
    out.set(name, renamed);
  }
  return out;
}

/** The const enums of src/addon.ts. */
function tsEnums(): Map<string, Map<string, number>> {
  const src = readFileSync(join(packageDir(), 'src', 'addon.ts'), 'utf8');
  return enums(src, /\bexport\s+const\s+enum\s+(\w+)\s*\{([^}]*)\}/g);
}

/** "Name = value" lines of the members one map has and the other lacks or numbers differently. */
function difference(a: Map<string, number>, b: Map<string, number>): string[] {
  return [...a].filter(([k, v]) => b.get(k) !== v).map(([k, v]) => `${k} = ${v}`);
}

describe('op codes: binding/kernels.h and src/addon.ts', () => {
  it('reads enum members, counting implicit values on', () => {
    const got = members(' A = 0, B, C = 20,\n D ,');
    assert.deepEqual(
      [...got],
      [
        ['A', 0],
        ['B', 1],
        ['C', 20],
        ['D', 21],
      ],
    );
    assert.throws(() => members('A = 1 << 2'), /cannot read enum member/);
    assert.equal(stripComments('a /* b */ c // d\ne'), 'a  c \ne');
  });

  it('both declare the same enums', () => {
    const shared = Object.keys(CPP_PREFIX).sort();
    assert.deepEqual([...cppEnums().keys()].sort(), shared, 'enums in binding/kernels.h');
    assert.deepEqual([...tsEnums().keys()].sort(), shared, 'const enums in src/addon.ts');
  });

  for (const name of Object.keys(CPP_PREFIX)) {
    it(`${name}: same members, same numbers`, () => {
      const cpp = cppEnums().get(name) ?? new Map<string, number>();
      const ts = tsEnums().get(name) ?? new Map<string, number>();
      assert.ok(cpp.size >= 2, `kernels.h: ${name} has ${cpp.size} members`);
      const onlyCpp = difference(cpp, ts);
      const onlyTs = difference(ts, cpp);
      assert.deepEqual(
        { onlyCpp, onlyTs },
        { onlyCpp: [], onlyTs: [] },
        `${name}: kernels.h has ${onlyCpp.join(', ') || 'nothing else'}; ` +
          `addon.ts has ${onlyTs.join(', ') || 'nothing else'}`,
      );
    });
  }
});
