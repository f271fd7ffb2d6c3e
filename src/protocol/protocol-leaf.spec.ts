import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const PROTOCOL = __dirname;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every module specifier a file imports or re-exports, static or dynamic. */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)'([^']+)'/g)].map((match) => match[1]);
}

// The protocol is the bottom layer: everything else may import it, it imports nothing of ours.
describe('src/protocol', () => {
  it('imports nothing of ours from outside itself, and no socket library', () => {
    const outside = (file: string, specifier: string): boolean =>
      specifier.startsWith('.')
        ? relative(PROTOCOL, resolve(dirname(file), specifier)).startsWith('..')
        : /^(ws|@nestjs\/(websockets|platform-))/.test(specifier);
    const leaks = sources(PROTOCOL).flatMap((file) =>
      specifiers(file)
        .filter((specifier) => outside(file, specifier))
        .map((specifier) => `${relative(PROTOCOL, file)}: ${specifier}`),
    );
    expect(leaks).toEqual([]);
  });

  it('is checked file by file (the check sees its imports)', () => {
    expect(specifiers(join(PROTOCOL, 'error-frame.ts'))).toEqual(['./chat.exception', './error-code', './frames']);
  });
});
