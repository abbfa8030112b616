/**
 * Reads legacy settings from a YAML or JSON file (through the `yaml` library,
 * keeping each key's position for errors) and from upper-case environment
 * variables, which win over the file as they did in the legacy server.
 * Values are checked against the key's kind here; keys unknown in a file are
 * errors with a did-you-mean.
 */
import { LineCounter, isMap, isScalar, parseDocument, type Node } from 'yaml';
import type { Span } from '../../../grammar/ast.ts';
import { ConfigError, ConfigErrors, unknownName } from '../../host/errors.ts';
import { parseDurationString } from '../../host/duration.ts';
import { CADDY_JSON_KEYS, LEGACY_KEY_NAMES, LEGACY_KEYS, type LegacyKeyName, type LegacyKind } from './keys.ts';

/** Where a value came from: a file position, or an environment variable. */
export interface Source { span?: Span; env?: string }

export type LegacyValue = string | boolean | string[] | number;

export interface Setting { value: LegacyValue; source: Source }

export type LegacySettings = Map<LegacyKeyName, Setting>;

export function valueError(name: string, source: Source, detail: string, expected?: string): ConfigError {
  const what = source.env ? `environment variable ${source.env}` : `"${name}"`;
  return new ConfigError('ERR_CFG_VALUE', source.span, `${what}: ${detail}`, { expected });
}

const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

const EXPECTED: Record<LegacyKind, string> = {
  string: 'a string',
  bool: 'true or false (also 1/0, t/f)',
  duration: 'a duration with a unit, e.g. 40s, 10m, or 0',
  list: 'a list of strings, or one string separated by commas or spaces',
  uint: 'an integer ≥ 0',
};

/** Checks and converts one raw value (a YAML/JSON scalar or list, or an environment string). */
export function convert(name: LegacyKeyName, raw: unknown, source: Source): LegacyValue {
  const kind = LEGACY_KEYS[name].kind;
  const bad = (detail: string): ConfigError => valueError(name, source, detail, EXPECTED[kind]);
  const shown = JSON.stringify(raw);
  switch (kind) {
    case 'string':
      if (typeof raw === 'string') return raw;
      if (typeof raw === 'number') return String(raw);
      throw bad(`${shown} is not a string`);
    case 'bool':
      if (typeof raw === 'boolean') return raw;
      if (raw === 0 || raw === 1) return raw === 1;
      if (typeof raw === 'string' && TRUE.has(raw.trim())) return true;
      if (typeof raw === 'string' && FALSE.has(raw.trim())) return false;
      throw bad(`${shown} is not a boolean`);
    case 'duration': {
      if (raw === 0) return '0s';
      if (typeof raw === 'string') {
        const ms = parseDurationString(raw);
        if (ms !== undefined && ms >= 0) return raw.trim() === '0' ? '0s' : raw.trim();
      }
      throw bad(typeof raw === 'number' ? `${shown} has no unit` : `${shown} is not a duration`);
    }
    case 'list':
      if (typeof raw === 'string') return raw.split(/[\s,]+/).filter(Boolean);
      if (Array.isArray(raw) && raw.every((x) => typeof x === 'string')) return raw as string[];
      throw bad(`${shown} is not a list of strings`);
    case 'uint':
      if (typeof raw === 'number' && Number.isSafeInteger(raw) && raw >= 0) return raw;
      if (typeof raw === 'string' && /^\d+$/.test(raw.trim()) && Number.isSafeInteger(Number(raw))) return Number(raw);
      throw bad(`${shown} is not an integer ≥ 0`);
  }
}

function spanAt(file: string, lc: LineCounter, offset: number): Span {
  const { line, col } = lc.linePos(offset);
  return { file, line, column: col };
}

/** Settings of a YAML or JSON file. Throws ConfigErrors listing every problem at once. */
export function readFile(text: string, file: string): LegacySettings {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const errors: ConfigError[] = doc.errors.map((e) => new ConfigError('ERR_CFG_SYNTAX', spanAt(file, lc, e.pos[0]), e.message.split('\n')[0]!));
  if (errors.length) throw new ConfigErrors(errors);
  const settings: LegacySettings = new Map();
  const root = doc.contents;
  if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) return settings;
  if (!isMap(root)) {
    throw new ConfigError('ERR_CFG_VALUE', spanAt(file, lc, root.range?.[0] ?? 0), 'the configuration must be a mapping of keys to values', { expected: 'key: value lines (YAML) or one JSON object' });
  }
  for (const pair of root.items) {
    const keyNode = pair.key as Node | null;
    const span = spanAt(file, lc, keyNode?.range?.[0] ?? 0);
    const rawKey = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
    // Keys are case-insensitive, as the legacy server's configuration library read them.
    const key = rawKey.toLowerCase();
    if (!(key in LEGACY_KEYS)) {
      const err = unknownName('configuration key', rawKey, span, LEGACY_KEY_NAMES);
      errors.push(CADDY_JSON_KEYS.has(key)
        ? new ConfigError('ERR_CFG_UNKNOWN', span, `${err.detail}: this looks like Caddy's JSON config`, { hint: 'load it with --adapter json' })
        : err);
      continue;
    }
    const name = key as LegacyKeyName;
    if (settings.has(name)) { errors.push(new ConfigError('ERR_CFG_VALUE', span, `"${rawKey}" is set twice (keys are case-insensitive)`)); continue; }
    const valueNode = pair.value as Node | null;
    const raw: unknown = valueNode === null ? null : valueNode.toJSON();
    const source: Source = { span: valueNode?.range ? spanAt(file, lc, valueNode.range[0]) : span };
    if (raw === null) continue; // `key:` with no value: unset, as the legacy server read it
    try { settings.set(name, { value: convert(name, raw, source), source }); } catch (e) {
      if (e instanceof ConfigError) errors.push(e); else throw e;
    }
  }
  if (errors.length) throw new ConfigErrors(errors);
  return settings;
}

/** Settings of the environment: each key upper-cased (`JWT_KEY`); empty variables count as unset. */
export function readEnv(env: Record<string, string | undefined>): LegacySettings {
  const settings: LegacySettings = new Map();
  const errors: ConfigError[] = [];
  for (const name of LEGACY_KEY_NAMES) {
    const variable = name.toUpperCase();
    const raw = env[variable];
    if (raw === undefined || raw === '') continue;
    const source: Source = { env: variable };
    try { settings.set(name, { value: convert(name, raw, source), source }); } catch (e) {
      if (e instanceof ConfigError) errors.push(e); else throw e;
    }
  }
  if (errors.length) throw new ConfigErrors(errors);
  return settings;
}
