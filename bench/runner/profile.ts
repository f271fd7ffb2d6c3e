// Reads a --cpu-prof profile and ranks self time by function and by package, within the measured window.
import { readFileSync } from 'node:fs';
import type { Window } from './scenarios';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  selfMs: number;
  percent: number;
}

export interface ProfileSummary {
  /** Busy (non-idle) ms in the window. */
  busyMs: number;
  windowMs: number;
  /** False when no sample fell in the window and the whole profile was used. */
  windowed: boolean;
  functions: SelfTime[];
  packages: SelfTime[];
}

/** `node_modules/@scope/pkg/...` -> `@scope/pkg`; node's own code -> `node`; the product's -> `product: file`. */
function packageOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const dist = url.indexOf('/product-dist/');
  if (dist >= 0) return `product: ${url.slice(dist + '/product-dist/'.length)}`;
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + '/node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  return url.startsWith('node:') ? 'node' : url;
}

function functionOf(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  if (!frame.url) return name;
  const file = frame.url.replace(/^.*\/node_modules\//, '').replace(/^.*\/product-dist\//, 'product/').replace(/^file:\/\//, '');
  return `${name} ${file}:${frame.lineNumber + 1}`;
}

function rank(totals: Map<string, number>, busyMs: number, top: number): SelfTime[] {
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ name, selfMs: Math.round(us / 100) / 10, percent: Math.round((us / (busyMs * 1000)) * 1000) / 10 }));
}

export function summarizeProfile(path: string, window?: Window, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const pick = (inWindow: boolean) => {
    const fns = new Map<string, number>();
    const pkgs = new Map<string, number>();
    let t = profile.startTime;
    let busyUs = 0;
    profile.samples.forEach((id, i) => {
      t += profile.timeDeltas[i];
      const dt = profile.timeDeltas[i + 1] ?? 0;
      if (inWindow && window && (t < window.startUs || t > window.endUs)) return;
      const frame = byId.get(id);
      if (!frame || frame.functionName === '(idle)') return;
      busyUs += dt;
      fns.set(functionOf(frame), (fns.get(functionOf(frame)) ?? 0) + dt);
      pkgs.set(packageOf(frame), (pkgs.get(packageOf(frame)) ?? 0) + dt);
    });
    return { fns, pkgs, busyUs };
  };
  let windowed = window !== undefined;
  let picked = pick(windowed);
  if (picked.busyUs === 0) {
    windowed = false;
    picked = pick(false);
  }
  const busyMs = picked.busyUs / 1000;
  return {
    busyMs: Math.round(busyMs),
    windowMs: window && windowed ? Math.round((window.endUs - window.startUs) / 1000) : 0,
    windowed,
    functions: rank(picked.fns, busyMs, top),
    packages: rank(picked.pkgs, busyMs, top),
  };
}
