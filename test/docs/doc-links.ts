// Checks that every relative link in README.md and docs/*.md points at a file that exists, and
// every #anchor at a heading (or an <a id>/<a name>) of its target, with GitHub's heading slugs.
// External links (http:, https:, mailto:) are not fetched: the checks must work offline.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export interface LinkProblem {
  file: string;
  line: number;
  target: string;
  reason: string;
}

export interface LinkReport {
  files: string[];
  links: number;
  problems: LinkProblem[];
}

interface Link {
  target: string;
  line: number;
}

/** README.md and every Markdown file in docs/, relative to root. */
export function documentationFiles(root: string): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs];
}

/** The text with fenced code blocks and inline code spans blanked out (newlines kept, for line numbers). */
export function proseOf(markdown: string): string {
  const lines = markdown.split('\n');
  let fence: string | undefined;
  const kept = lines.map((line) => {
    const opener = /^\s*(`{3,}|~{3,})/.exec(line);
    if (fence !== undefined) {
      if (opener && opener[1][0] === fence[0] && opener[1].length >= fence.length && line.trim() === opener[1]) fence = undefined;
      return '';
    }
    if (opener) {
      fence = opener[1];
      return '';
    }
    return line;
  });
  // Code spans cannot cross a blank line, so strip them block by block.
  return kept
    .join('\n')
    .split(/\n(?=\s*\n)/)
    .map((block) => block.replace(/(`+)([\s\S]*?[^`])\1(?!`)/g, (span) => span.replace(/[^\n]/g, ' ')))
    .join('\n');
}

/** GitHub's anchor for a heading's text (github-slugger): lower case, punctuation dropped, spaces to dashes. */
export function slugOf(headingText: string): string {
  const text = headingText
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/`/g, '')
    .replace(/\*/g, '');
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor a Markdown file offers: its headings' slugs (repeats numbered as GitHub does) and explicit ids. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const lines = markdown.split('\n');
  const prose = proseOf(markdown).split('\n');
  lines.forEach((line, index) => {
    if (prose[index] === '' && line !== '') return; // inside a code fence
    const heading = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line);
    if (heading) {
      const base = slugOf(heading[1]);
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      anchors.add(count === 0 ? base : `${base}-${count}`);
    }
    for (const id of prose[index].matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(id[1]);
  });
  return anchors;
}

/** Inline links and images, reference definitions and HTML href/src attributes, outside code. */
export function linksOf(markdown: string): Link[] {
  const prose = proseOf(markdown);
  const lineAt = (offset: number): number => prose.slice(0, offset).split('\n').length;
  const links: Link[] = [];
  const inline = /!?\[(?:[^[\]]|\[[^\]]*\])*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+"[^"]*")?\s*\)/g;
  for (const match of prose.matchAll(inline)) {
    links.push({ target: match[1].replace(/^<|>$/g, ''), line: lineAt(match.index) });
  }
  for (const match of prose.matchAll(/^ {0,3}\[[^\]]+\]:\s*(\S+)/gm)) links.push({ target: match[1], line: lineAt(match.index) });
  for (const match of prose.matchAll(/<(?:a|img)\s[^>]*?(?:href|src)="([^"]+)"/g)) links.push({ target: match[1], line: lineAt(match.index) });
  return links;
}

function isExternal(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//');
}

/** Checks every link of the documentation files under root. */
export function checkDocLinks(root: string, files: string[] = documentationFiles(root)): LinkReport {
  const anchorCache = new Map<string, Set<string>>();
  const anchorsIn = (path: string): Set<string> => {
    let anchors = anchorCache.get(path);
    if (!anchors) {
      anchors = anchorsOf(readFileSync(path, 'utf8'));
      anchorCache.set(path, anchors);
    }
    return anchors;
  };
  const problems: LinkProblem[] = [];
  let count = 0;
  for (const file of files) {
    const path = join(root, file);
    for (const { target, line } of linksOf(readFileSync(path, 'utf8'))) {
      if (isExternal(target)) continue;
      count += 1;
      const hashAt = target.indexOf('#');
      const pathPart = hashAt === -1 ? target : target.slice(0, hashAt);
      const anchor = hashAt === -1 ? undefined : decodeURIComponent(target.slice(hashAt + 1));
      const resolved = pathPart === '' ? path : resolve(dirname(path), decodeURIComponent(pathPart));
      const problem = (reason: string): void => void problems.push({ file, line, target, reason });
      if (relative(root, resolved).startsWith('..')) {
        problem('points outside the repository');
      } else if (!existsSync(resolved)) {
        problem(`no file ${relative(root, resolved)}`);
      } else if (anchor !== undefined && resolved.endsWith('.md') && statSync(resolved).isFile() && !anchorsIn(resolved).has(anchor)) {
        problem(`no heading or id "${anchor}" in ${relative(root, resolved)}`);
      }
    }
  }
  return { files, links: count, problems };
}
