import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import semver from 'semver';

const ROOT = join(__dirname, '..');

interface LsNode {
  path?: string;
  dependencies?: Record<string, LsNode>;
}

interface Manifest {
  name: string;
  version: string;
  engines?: { node?: string };
}

function manifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
}

/** Every installed package the server needs at run time (npm's view: dependencies, not devDependencies). */
async function runtimePackages(): Promise<Manifest[]> {
  const { stdout } = await promisify(execFile)('npm', ['ls', '--omit=dev', '--all', '--long', '--json'], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  const dirs = new Set<string>();
  // The whole tree, not only first sightings: npm lists the dependencies of a deduplicated package
  // under one of its occurrences, not necessarily the first.
  const walk = (node: LsNode): void => {
    for (const child of Object.values(node.dependencies ?? {})) {
      if (child.path) dirs.add(child.path);
      walk(child);
    }
  };
  walk(JSON.parse(stdout) as LsNode);
  return Array.from(dirs, manifest);
}

describe('Node.js version (package.json engines)', () => {
  const ours = manifest(ROOT).engines?.node ?? '';

  it('names a range, and this Node is in it', () => {
    expect(semver.validRange(ours)).not.toBeNull();
    expect(semver.satisfies(process.version, ours)).toBe(true);
  });

  it('is accepted by every runtime dependency: no EBADENGINE for them on any Node it names', async () => {
    const packages = await runtimePackages();
    expect(packages.map((p) => p.name)).toEqual(expect.arrayContaining(['@nestjs/core', 'better-sqlite3', 'pino-pretty']));
    const refusing = packages
      .filter((p) => p.engines?.node !== undefined && !semver.subset(ours, p.engines.node))
      .map((p) => `${p.name}@${p.version} wants node ${p.engines?.node}`);
    expect(refusing).toEqual([]);
  });
});
