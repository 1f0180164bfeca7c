// Shared by the benches: chromium as in the e2e tests, and the RSS of its whole process tree.
import { readFileSync, readdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

export const TAG = `--riffroom-bench=${process.pid}`;

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--autoplay-policy=no-user-gesture-required', '--enable-precise-memory-info', '--js-flags=--expose-gc', TAG],
  });
}

/** The pid of the chromium we launched (found by its tag). */
export function browserPid() {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (cmd.includes(TAG) && !cmd.includes('--type=')) return Number(name);
    } catch {
      // gone
    }
  }
  throw new Error('chromium process not found');
}

/** Proportional resident memory (bytes) of `pid` and all its descendants, from /proc. */
export function treeRss(pid) {
  return [...treeByType(pid).values()].reduce((a, b) => a + b, 0);
}

/** The same, split by Chromium process type (`browser` for the main one, else its --type=). */
export function treeByType(pid) {
  const byType = new Map();
  for (const [p, bytes] of treeMembers(pid)) {
    let type = 'browser';
    try {
      type = /--type=([a-z-]+)/.exec(readFileSync(`/proc/${p}/cmdline`, 'utf8'))?.[1] ?? 'browser';
    } catch {
      // gone
    }
    byType.set(type, (byType.get(type) ?? 0) + bytes);
  }
  return byType;
}

function treeMembers(pid) {
  const children = new Map();
  const rss = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const status = readFileSync(`/proc/${name}/status`, 'utf8');
      const ppid = Number(/PPid:\s+(\d+)/.exec(status)?.[1]);
      // PSS: shared pages split between the processes that map them (RSS would count them twice).
      let kb = 0;
      try {
        kb = Number(/Pss:\s+(\d+)/.exec(readFileSync(`/proc/${name}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
      } catch {
        kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      }
      rss.set(Number(name), kb * 1024);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(name));
    } catch {
      // The process ended while we looked.
    }
  }
  const members = [];
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop();
    members.push([p, rss.get(p) ?? 0]);
    stack.push(...(children.get(p) ?? []));
  }
  return members;
}

export const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
