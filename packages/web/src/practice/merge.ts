/**
 * The three-way merge a 409 `stale_revision` needs: `base` is the state last synced with the
 * server, `mine` what this device has now, `theirs` what the server has now (another device
 * saved meanwhile). Field by field, a field this device changed since `base` keeps this
 * device's value and every other field takes the server's, so neither the user's last change
 * nor the other device's are lost. Loops and markers merge by id: added on either side they
 * stay, removed on this device they go, removed on the other they go unless changed here.
 * Pure, so every case is unit-tested.
 */
import type { MixStemName, PracticeState } from '../api/practice';

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Mine when I changed it since base, else theirs. */
function pick<T>(base: T, mine: T, theirs: T): T {
  return deepEqual(mine, base) ? theirs : mine;
}

/** Field-wise merge of two versions of a flat record (missing = the record is absent). */
function mergeRecord<T extends object>(base: T | undefined, mine: T | undefined, theirs: T | undefined): T | undefined {
  if (!mine && !theirs) return undefined;
  if (!base) return mine && theirs ? { ...theirs, ...mine } : (mine ?? theirs);
  if (!mine) return deepEqual(theirs, base) ? undefined : theirs; // removed here: gone unless changed there
  if (!theirs) return deepEqual(mine, base) ? undefined : mine;
  const out = { ...theirs };
  for (const key of Object.keys(mine) as (keyof T)[]) out[key] = pick(base[key], mine[key], theirs[key]);
  return out;
}

/** Merge lists of items with ids: the server's order, then what only this device added. */
function mergeById<T extends { id: string }>(base: readonly T[], mine: readonly T[], theirs: readonly T[]): T[] {
  const byId = (list: readonly T[]) => new Map(list.map((item) => [item.id, item]));
  const b = byId(base);
  const m = byId(mine);
  const t = byId(theirs);
  const order = [...theirs.map((x) => x.id), ...mine.map((x) => x.id).filter((id) => !t.has(id))];
  const out: T[] = [];
  for (const id of order) {
    const merged = mergeRecord(b.get(id), m.get(id), t.get(id));
    if (merged) out.push(merged);
  }
  return out;
}

export function mergePracticeState(base: PracticeState, mine: PracticeState, theirs: PracticeState): PracticeState {
  const stemNames = new Set<MixStemName>([...keysOf(base.stems), ...keysOf(mine.stems), ...keysOf(theirs.stems)]);
  const stems: PracticeState['stems'] = {};
  for (const name of stemNames) {
    const merged = mergeRecord(base.stems[name], mine.stems[name], theirs.stems[name]);
    if (merged) stems[name] = merged;
  }
  const loops = mergeById(base.loops, mine.loops, theirs.loops);
  const markers = mergeById(base.markers, mine.markers, theirs.markers);
  const active = pick(base.active_loop_id, mine.active_loop_id, theirs.active_loop_id);
  return {
    stems,
    master_db: pick(base.master_db, mine.master_db, theirs.master_db),
    tempo: pick(base.tempo, mine.tempo, theirs.tempo),
    transpose: pick(base.transpose, mine.transpose, theirs.transpose),
    capo: pick(base.capo, mine.capo, theirs.capo),
    click: mergeRecord(base.click, mine.click, theirs.click) ?? theirs.click,
    loops,
    active_loop_id: active !== null && loops.some((l) => l.id === active) ? active : null,
    markers,
    my_part: pick(base.my_part, mine.my_part, theirs.my_part),
    notes: pick(base.notes, mine.notes, theirs.notes),
  };
}

function keysOf<K extends string>(record: Partial<Record<K, unknown>>): K[] {
  return Object.keys(record) as K[];
}
