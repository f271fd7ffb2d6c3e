// The layers of src/, lowest first. A file may import from its own layer and the ones below it,
// never from one above: the dependency direction the architecture relies on (README, Architecture).
// Folders of one layer may import each other.
export const LAYERS = [
  ['protocol'], // frames, error codes, DTOs, name rules: imports nothing of ours
  ['config', 'metrics', 'auth'], // auth: token verification, identity from claims, the HTTP auth hook
  ['store', 'database'], // rows in and out of the database; the entities and their migrations
  ['hub'], // sessions, membership, presence, local delivery, the broker seam
  ['chat'], // the services the gateway delegates to
  ['gateway', 'api', 'health', 'docs', 'web', 'cluster'], // the edges: WebSocket (the only code that knows `ws`), REST, probes, the web client's config; cluster mode's Redis side (it implements the hub's Broker and ClusterBus, and reads snapshots through the chat services)
];
const ROOT_FILES = './src/*.ts'; // main.ts, app.module.ts, app.setup.ts: the wiring on top

/** import-x/no-restricted-paths zones: each layer's folders may not import the layers above. */
export function layerZones() {
  const zones = LAYERS.flatMap((layer, i) => {
    const above = LAYERS.slice(i + 1).flat();
    return layer.map((folder) => ({
      target: `./src/${folder}/**`,
      from: [...above.map((name) => `./src/${name}/**`), ROOT_FILES],
      message: `src/${folder} is in a lower layer than this import: move the shared code down (see eslint.layers.mjs).`,
    }));
  });
  // auth sits at the configuration level but builds on configuration alone (and the protocol), so
  // that the edges, metrics among them, and the chat services can all use it.
  zones.push({
    target: './src/auth/**',
    from: ['./src/metrics/**'],
    message: 'src/auth imports only src/protocol and src/config (see eslint.layers.mjs).',
  });
  // Unit specs and the code they test stand alone: test helpers live beside their specs.
  zones.push({ target: './src/**', from: ['./test/**'], message: 'Code and unit specs under src/ do not import from test/.' });
  return zones;
}
