import { readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import * as ts from 'typescript';
import { Session } from './session';

/**
 * Session state has one owner, the hub: code outside src/hub reads a session and sends to it
 * (send, sendPaced, close, whenLive, nickname, isClosed ...), but never holds, releases, delivers,
 * writes raw bytes to, closes the books on, or renames one. The compiler resolves every member
 * access, so `hub.goLive(session)` is allowed and `session.goLive()` is not.
 */
const HUB_ONLY = new Set(['write', 'deliver', 'goLive', 'holdRoom', 'releaseRoom', 'markClosed', 'typingAt', 'forgetTyping']);
const ASSIGNED_BY_HUB_ONLY = new Set(['nickname']);

const SRC = join(__dirname, '..');
const HUB = join(SRC, 'hub') + sep;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

function sessionAccesses(): { seen: Set<string>; violations: string[] } {
  const files = sourceFiles(SRC);
  const config = ts.readConfigFile(join(SRC, '..', 'tsconfig.json'), (path) => ts.sys.readFile(path));
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, join(SRC, '..'));
  // Only our own files matter here: libraries are read as empty, which keeps this to a second or two.
  const compilerOptions = { ...options, noEmit: true, noLib: true, types: [] };
  const host = ts.createCompilerHost(compilerOptions);
  const readSource = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, ...rest) =>
    fileName.includes(`${sep}node_modules${sep}`) ? ts.createSourceFile(fileName, '', languageVersion) : readSource(fileName, languageVersion, ...rest);
  const program = ts.createProgram({ rootNames: files, options: compilerOptions, host });
  const checker = program.getTypeChecker();
  const violations: string[] = [];
  const seen = new Set<string>();

  const isSessionMember = (node: ts.PropertyAccessExpression): boolean => {
    const declaration = checker.getSymbolAtLocation(node.name)?.declarations?.[0];
    const owner = declaration?.parent;
    return owner !== undefined && ts.isClassDeclaration(owner) && owner.name?.text === Session.name && declaration!.getSourceFile().fileName.startsWith(HUB);
  };

  for (const file of program.getSourceFiles()) {
    if (!file.fileName.startsWith(SRC) || file.fileName.startsWith(HUB)) continue;
    const visit = (node: ts.Node): void => {
      if (ts.isPropertyAccessExpression(node) && isSessionMember(node)) {
        const name = node.name.text;
        seen.add(name);
        const assigned =
          ts.isBinaryExpression(node.parent) && node.parent.left === node && node.parent.operatorToken.kind === ts.SyntaxKind.EqualsToken;
        if (HUB_ONLY.has(name) || (assigned && ASSIGNED_BY_HUB_ONLY.has(name))) {
          const { line } = file.getLineAndCharacterOfPosition(node.getStart());
          violations.push(`${relative(SRC, file.fileName)}:${line + 1} ${node.getText()}${assigned ? ' =' : ''}`);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(file);
  }
  return { seen, violations };
}

describe(`${Session.name} ownership`, () => {
  it('is changed from src/hub only', () => {
    const { seen, violations } = sessionAccesses();

    expect(violations).toEqual([]);
    expect(seen).toContain('send'); // the check does see sessions used outside the hub
  }, 60_000);
});
