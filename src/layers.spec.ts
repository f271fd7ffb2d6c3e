import { ESLint } from 'eslint';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import tseslint from 'typescript-eslint';
import { LAYERS, layerZones } from '../eslint.layers.mjs';

const ROOT = join(__dirname, '..');

/** The import-direction rule of `npm run lint`, alone, so that a probe file needs no type information. */
function linter(): ESLint {
  return new ESLint({
    cwd: ROOT,
    overrideConfigFile: true,
    overrideConfig: [
      {
        files: ['**/*.ts'],
        languageOptions: { parser: tseslint.parser },
        plugins: { 'import-x': importX },
        settings: { 'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.json'] })] },
        rules: { 'import-x/no-restricted-paths': ['error', { zones: layerZones() }] },
      },
    ],
  });
}

/** The rule's messages for a file at `path` (relative to the repository) that holds `code`. */
async function problems(path: string, code: string): Promise<string[]> {
  const [result] = await linter().lintText(code, { filePath: join(ROOT, path) });
  return result.messages.map((m) => m.message);
}

describe('import direction (eslint.layers.mjs)', () => {
  it.each([
    ['src/protocol/probe.ts', "import { Hub } from '../hub/hub';"],
    ['src/protocol/dto/probe.ts', "import { ChatService } from '../../chat/chat.service';"],
    ['src/store/probe.ts', "import { Hub } from '../hub/hub';"],
    ['src/hub/probe.ts', "import { ChatService } from '../chat/chat.service';"],
    ['src/chat/probe.ts', "import { ChatGateway } from '../gateway/chat.gateway';"],
    ['src/metrics/probe.ts', "import { MessageStore } from '../store/message-store.service';"],
    ['src/hub/probe.ts', "import { createApp } from '../app.setup';"],
    ['src/hub/probe.spec.ts', "import { something } from '../../test/support/chat-client';"],
    ['src/auth/probe.ts', "import { Hub } from '../hub/hub';"],
    ['src/auth/probe.ts', "import { MessageStore } from '../store/message-store.service';"],
    ['src/auth/probe.ts', "import { ChatMetrics } from '../metrics/chat-metrics.service';"],
    ['src/config/probe.ts', "import { MessageStore } from '../store/message-store.service';"],
    ['src/chat/probe.ts', "import { clientConfig } from '../web/client-config';"],
  ])('rejects %s importing upwards: %s', async (path, code) => {
    const found = await problems(path, code);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^Unexpected path ".+" imported in restricted zone\./);
  });

  it.each([
    ['src/hub/probe.ts', "import { encodeFrame } from '../protocol/frames';"],
    ['src/chat/probe.ts', "import { Hub } from '../hub/hub';\nimport { MessageStore } from '../store/message-store.service';"],
    ['src/gateway/probe.ts', "import { ChatService } from '../chat/chat.service';"],
    ['src/database/probe.ts', "import { MessageEntity } from '../store/message.entity';"],
    ['src/probe.ts', "import { ChatGateway } from './gateway/chat.gateway';"],
    ['src/auth/probe.ts', "import { parsePublicKeyPem } from '../config/public-key';\nimport type { Identity } from '../protocol/identity';"],
    ['src/metrics/probe.ts', "import { AuthService } from '../auth/auth.service';"],
    ['src/chat/probe.ts', "import { AuthService } from '../auth/auth.service';"],
    ['src/gateway/probe.ts', "import { AuthFailure } from '../auth/auth-failure';"],
    ['src/web/probe.ts', "import type { AuthMode } from '../config/env.validation';"],
  ])('allows %s importing its own layer or one below: %s', async (path, code) => {
    await expect(problems(path, code)).resolves.toEqual([]);
  });

  it('names every folder of src/ in exactly one layer', () => {
    const folders = readdirSync(join(ROOT, 'src'), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
    const layered = LAYERS.flat();
    expect([...layered].sort()).toEqual(folders);
    expect(new Set(layered).size).toBe(layered.length);
  });
});
