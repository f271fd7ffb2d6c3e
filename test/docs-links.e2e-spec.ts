import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkDocLinks } from './docs/doc-links';

const ROOT = join(__dirname, '..');

describe('documentation links (README.md and docs/*.md)', () => {
  it('resolves every relative link and #anchor', () => {
    const report = checkDocLinks(ROOT);

    expect(report.problems).toEqual([]);
    expect(report.files).toEqual(expect.arrayContaining(['README.md', 'docs/protocol.md', 'docs/configuration.md', 'docs/operations.md']));
    expect(report.links).toBeGreaterThan(100);
  });

  describe('the checker', () => {
    let root: string;

    beforeEach(() => {
      root = mkdtempSync(join(tmpdir(), 'docs-links-'));
      mkdirSync(join(root, 'docs'));
    });
    afterEach(() => rmSync(root, { recursive: true, force: true }));

    it('reports a missing file and a missing anchor, with GitHub slugs, and skips code and external links', () => {
      writeFileSync(
        join(root, 'README.md'),
        [
          '# Title',
          '',
          '## Café — the `x` part',
          '',
          'Fine: [a](#café--the-x-part), [b](docs/b.md#good-one-1), [c](https://example.com/#nowhere).',
          'Broken: [d](docs/b.md#nope), [e](missing.md).',
          'Code is not checked: `[f](gone.md)`',
          '',
          '```',
          '[g](gone-too.md)',
          '## not a heading',
          '```',
          '[h](#not-a-heading)',
        ].join('\n'),
      );
      writeFileSync(join(root, 'docs', 'b.md'), '## Good one\n\n## Good one\n\n[back](../README.md#title)\n');

      const report = checkDocLinks(root);

      expect(report.problems).toEqual([
        { file: 'README.md', line: 6, target: 'docs/b.md#nope', reason: 'no heading or id "nope" in docs/b.md' },
        { file: 'README.md', line: 6, target: 'missing.md', reason: 'no file missing.md' },
        { file: 'README.md', line: 13, target: '#not-a-heading', reason: 'no heading or id "not-a-heading" in README.md' },
      ]);
      expect(report.links).toBe(6);
    });
  });
});

describe("the README's first screen", () => {
  const firstScreen = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n').slice(0, 60).join('\n');

  it('has the setup commands, the URL to open, the test command with its duration, and the links onward', () => {
    expect(firstScreen).toContain('npm ci && npm start');
    expect(firstScreen).toContain('<http://localhost:8090/>');
    expect(firstScreen).toMatch(/npm test\s+#.*about \d+ minutes/);
    for (const doc of ['docs/protocol.md', 'docs/configuration.md', 'docs/operations.md']) expect(firstScreen).toContain(`(${doc})`);
  });
});
