// The engines the first-sound bench runs a new song through, as `riffroom serve` settings: each
// server asks for its engine by default (the web app names none), fetches nothing, and htdemucs
// runs an untrained network of the published shape (same speed and memory as the real weights).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pythonCommand } from '../e2e/harness.mjs';

/** Name → what the done job must say ran (`engine_used`, `model_used`), and the server's settings. */
export const ENGINES = {
  dsp: { expect: ['dsp', null], env: () => ({ RIFFROOM_DEFAULT_ENGINE: 'dsp' }) },
  spleeter: { expect: ['spleeter', '4stems'], env: () => ({ RIFFROOM_DEFAULT_ENGINE: 'spleeter', RIFFROOM_DEFAULT_MODEL: '4stems' }) },
  htdemucs: {
    expect: ['demucs', 'htdemucs'],
    env: (modelDir) => ({ RIFFROOM_DEFAULT_ENGINE: 'demucs', RIFFROOM_DEFAULT_MODEL: 'htdemucs', RIFFROOM_MODEL_DIR: modelDir }),
  },
};

const OFFLINE = { RIFFROOM_FETCH_MODELS: 'never', HF_HUB_OFFLINE: '1' };

/** The engines named in `list` ("dsp,spleeter,htdemucs"), checked. */
export function pickEngines(list) {
  const names = list.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !(n in ENGINES));
  if (unknown.length || names.length === 0) throw new Error(`BENCH_ENGINES: unknown engine ${unknown.join(', ') || '(none)'}; choose from ${Object.keys(ENGINES).join(', ')}`);
  return names;
}

/** Settings of a server running `name`; `modelDir` is needed for htdemucs. */
export function engineEnv(name, modelDir) {
  return { ...OFFLINE, ...ENGINES[name].env(modelDir) };
}

/**
 * A model directory (a new temporary one unless `dir` is given) holding a randomly initialised htdemucs, made with the same
 * `random_htdemucs` + `save_model` the pytest suites and bench/_measure.py use.
 */
export function makeRandomHtdemucsDir(dir = mkdtempSync(join(tmpdir(), 'riffroom-bench-models-'))) {
  const [python, ...pre] = pythonCommand();
  if (pre[0] !== '-m') throw new Error('making the random htdemucs needs a Python interpreter: set RIFFROOM_PYTHON or create .venv');
  const code = 'import sys, pathlib\nfrom riffroom.separation.engines.model_dir import random_htdemucs, save_model\nsave_model(random_htdemucs(), "htdemucs", pathlib.Path(sys.argv[1]))';
  const r = spawnSync(python, ['-c', code, dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`making the random htdemucs failed (${r.status}): ${r.stderr}`);
  }
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** True when the done job ran what `name` asks for. */
export function ranAsAsked(name, job) {
  const [engine, model] = ENGINES[name].expect;
  return job?.engine_used === engine && (model === null || String(job?.model_used).startsWith(model));
}
