import { lazyModule } from '../util/lazy.js';
import { randomBytes } from '../util/random.js';

/** Loaded on first use, for derived ids only: `node:crypto` (and the streams it pulls in) cost about 4 ms to load. */
const crypto = lazyModule<typeof import('node:crypto')>(() => require('node:crypto'));

// Crockford base32, lowercase: sortable as text, no look-alike letters.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const TIME_LEN = 10;
const RANDOM_LEN = 16;
/** The length of an id whitemagic makes (a file's own `id` may be anything). */
export const ID_LENGTH = TIME_LEN + RANDOM_LEN;

let lastTime = -1;
let lastRandom: number[] = [];

function encodeTime(ms: number): string {
  let out = '';
  for (let i = 0; i < TIME_LEN; i++) {
    out = ALPHABET[ms % 32] + out;
    ms = Math.floor(ms / 32);
  }
  return out;
}

function randomDigits(): number[] {
  return Array.from(randomBytes(RANDOM_LEN), (b) => b % 32);
}


/**
 * A new memory id: 26 characters, a ULID in lowercase. The first ten encode the creation time in
 * milliseconds, so ids sort by creation; the other sixteen (80 random bits) keep ids unique across
 * processes. Within one process, ids made in the same millisecond still increase.
 */
export function newId(now: number = Date.now()): string {
  let digits: number[];
  if (now <= lastTime) {
    digits = [...lastRandom];
    for (let i = RANDOM_LEN - 1; i >= 0; i--) {
      if (digits[i] < 31) {
        digits[i]++;
        break;
      }
      digits[i] = 0;
    }
    now = lastTime;
  } else {
    digits = randomDigits();
  }
  lastTime = now;
  lastRandom = digits;
  return encodeTime(now) + digits.map((d) => ALPHABET[d]).join('');
}

/**
 * The stable id of a memory whose file carries none (made by hand or by whitemagic 2.x):
 * its time part from `created` when known, its other part a hash of the file name, so the same file
 * always gets the same id and it still sorts by creation.
 */
export function derivedId(fileName: string, created?: string): string {
  const ms = created ? Date.parse(created) : NaN;
  const time = encodeTime(Number.isFinite(ms) && ms >= 0 ? ms : 0);
  const hash = crypto().createHash('sha256').update(fileName).digest();
  let rest = '';
  for (let i = 0; i < RANDOM_LEN; i++) rest += ALPHABET[hash[i] % 32];
  return time + rest;
}

/** The time an id was made, when it encodes one. */
export function idTime(id: string): number | undefined {
  if (id.length < TIME_LEN) return undefined;
  let ms = 0;
  for (const ch of id.slice(0, TIME_LEN)) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) return undefined;
    ms = ms * 32 + v;
  }
  return ms;
}

/** The part of an id used to keep file names unique: its last eight characters (40 random bits). */
export function idSuffix(id: string): string {
  return id.slice(-8);
}
