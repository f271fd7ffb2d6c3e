// Server CPU and memory as the kernel counts them, for a process and all its descendants.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export interface ProcSample {
  /** utime + stime of the tree, plus cutime + cstime (children already reaped), in seconds. */
  cpuSeconds: number;
  /** Sum of VmRSS over the tree. */
  rssBytes: number;
  /** Busy CPU seconds of the whole machine at the same moment. */
  machineBusy: number;
  at: number;
}

interface Stat {
  ppid: number;
  ticks: number;
  reapedTicks: number;
}

function readStat(pid: number): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "(comm)": state is field 3, so field n is at index n - 3.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), reapedTicks: Number(f[13]) + Number(f[14]) };
  } catch {
    return undefined; // the process is gone
  }
}

function rssOf(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** `root` and every process below it. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), Number(name)]);
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]) ?? []));
  return tree;
}

export function sample(root: number): ProcSample {
  let ticks = 0;
  let rssBytes = 0;
  for (const pid of processTree(root)) {
    const stat = readStat(pid);
    if (!stat) continue;
    ticks += stat.ticks + (pid === root ? stat.reapedTicks : 0);
    rssBytes += rssOf(pid);
  }
  return { cpuSeconds: ticks / TICKS_PER_SECOND, rssBytes, machineBusy: machineBusySeconds(), at: performance.now() };
}

/** The sum of several processes' samples (a cluster's instances), each with its tree. */
export function sampleAll(roots: number[]): ProcSample {
  const samples = roots.map(sample);
  return {
    cpuSeconds: samples.reduce((a, s) => a + s.cpuSeconds, 0),
    rssBytes: samples.reduce((a, s) => a + s.rssBytes, 0),
    machineBusy: samples[0]?.machineBusy ?? machineBusySeconds(),
    at: samples[0]?.at ?? performance.now(),
  };
}

export function cpuBetween(a: ProcSample, b: ProcSample): number {
  return Math.round((b.cpuSeconds - a.cpuSeconds) * 1000) / 1000;
}

/** Busy CPU seconds of the whole machine (all cores), from /proc/stat. */
export function machineBusySeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = fields;
  return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND;
}

export interface Usage {
  seconds: number;
  serverCpuSeconds: number;
  generatorCpuSeconds: number;
  /** CPU used by everything else on the machine (other people's work), in % of one core. */
  otherCpuPercent: number;
  serverRssBytes: number;
}

/** Starts measuring a server and its load generator; call the result to stop. */
export function measure(serverPid: number, generatorPid?: number): (generatorCpu?: number) => Usage {
  const s0 = sample(serverPid);
  const g0 = generatorPid === undefined ? undefined : sample(generatorPid);
  return (generatorCpu) => {
    const s1 = sample(serverPid);
    const g1 = generatorPid === undefined ? undefined : sample(generatorPid);
    const seconds = (s1.at - s0.at) / 1000;
    const serverCpuSeconds = cpuBetween(s0, s1);
    // A generator that reports its own CPU (autocannon, which exits when done) overrides /proc.
    const generatorCpuSeconds = generatorCpu ?? (g0 && g1 ? cpuBetween(g0, g1) : 0);
    const other = s1.machineBusy - s0.machineBusy - serverCpuSeconds - generatorCpuSeconds;
    return { seconds, serverCpuSeconds, generatorCpuSeconds, otherCpuPercent: Math.max(0, (100 * other) / seconds), serverRssBytes: s1.rssBytes };
  };
}

/** Waits until the server is idle again (after a run's clients are gone it still handles their closes), at most 20 s. */
export async function waitQuiet(pid: number): Promise<void> {
  const deadline = performance.now() + 20_000;
  let previous = sample(pid);
  let calm = 0;
  while (calm < 2 && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const next = sample(pid);
    calm = next.cpuSeconds - previous.cpuSeconds < 0.05 ? calm + 1 : 0;
    previous = next;
  }
}

/** A /proc listing, or nothing when it is gone (a process that exited, a kernel without IPv6). */
function listOrEmpty(read: () => string[]): string[] {
  try {
    return read();
  } catch {
    return [];
  }
}

/** Local ports of the TCP connections to `remotePort` that these processes hold (/proc/<pid>/fd against /proc/net/tcp{,6}). */
export function localPortsTo(pids: number[], remotePort: number): number[] {
  const inodes = new Set<string>();
  for (const pid of pids) {
    for (const fd of listOrEmpty(() => readdirSync(`/proc/${pid}/fd`))) {
      try {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        if (target.startsWith('socket:[')) inodes.add(target.slice(8, -1));
      } catch {
        // closed meanwhile
      }
    }
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of listOrEmpty(() => readFileSync(table, 'utf8').trim().split('\n').slice(1))) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const f = line.trim().split(/\s+/);
      if (parseInt(f[2].split(':')[1], 16) === remotePort && inodes.has(f[9])) ports.push(parseInt(f[1].split(':')[1], 16));
    }
  }
  return ports;
}
