import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** The edge alone knows which library carries the frames: below it, sessions have a Transport. */
const SRC = join(__dirname, '..');
const IMPORTS_WS = /\bfrom\s+['"]ws['"]|\brequire\(\s*['"]ws['"]\s*\)|\bimport\(\s*['"]ws['"]\s*\)/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('the ws library', () => {
  it('is imported in src/gateway only', () => {
    const importers = sourceFiles(SRC)
      .filter((file) => IMPORTS_WS.test(readFileSync(file, 'utf8')))
      .map((file) => relative(SRC, file));

    expect(importers.filter((file) => !file.startsWith(`gateway${sep}`))).toEqual([]);
    expect(importers).toContain(join('gateway', 'ws-transport.ts')); // the check does see imports
  });
});
