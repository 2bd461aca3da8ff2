/**
 * JSON token-request bodies with RFC 6749 §3.2's rule applied: a parameter must not be repeated.
 * `JSON.parse` keeps the last of duplicate keys silently (`{"audience":"a","audience":"b"}`), so a
 * proxy reading the first would see another request than Skyport; this parser refuses them, and
 * treats escaped spellings of one key (`grant\u005ftype`) as the same key.
 */
import { InvalidRequest } from './errors.js';

/**
 * Parses a JSON body; throws InvalidRequest when it is malformed or when the top-level object
 * repeats a key. Nested values are left to the caller (token parameters are strings).
 */
export function parseJsonParams(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidRequest('the request body is not valid JSON');
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = topLevelKeys(text);
    if (new Set(keys).size !== keys.length) throw new InvalidRequest('a parameter is repeated in the JSON body');
  }
  return value;
}

/** The keys of the top-level object of valid JSON `text`, decoded, in order. */
function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) keys.push(JSON.parse(text.slice(i, j + 1)) as string);
      expectKey = false;
      i = j;
    } else if (ch === '{' || ch === '[') {
      depth++;
      expectKey = ch === '{' && depth === 1;
    } else if (ch === '}' || ch === ']') depth--;
    else if (ch === ',' && depth === 1) expectKey = true;
  }
  return keys;
}
