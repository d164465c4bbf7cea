/**
 * The layers of ARCHITECTURE.md, checked in CI (`npm run lint:deps`): imports point down —
 * server → handlers → core → lib; clients → core, lib; platform → core, lib, clients — and
 * nothing forms a cycle.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'A cycle (types included) means two modules are one concern, or a port is missing.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'lib-is-the-ground-floor',
      severity: 'error',
      comment: 'lib/ imports nothing of the project above it.',
      from: { path: '^lib/' },
      to: { path: '^(core|clients|handlers|server|platform)/' },
    },
    {
      name: 'core-imports-only-lib',
      severity: 'error',
      comment: 'The domain core knows ports, not adapters, handlers or the server.',
      from: { path: '^core/' },
      to: { path: '^(clients|handlers|server|platform)/' },
    },
    {
      name: 'handlers-never-import-server-or-platform',
      severity: 'error',
      from: { path: '^handlers/' },
      to: { path: '^(server|platform)/' },
    },
    {
      name: 'clients-are-adapters',
      severity: 'error',
      comment: 'Clients implement core ports; they never reach up into handlers or the server.',
      from: { path: '^clients/' },
      to: { path: '^(handlers|server|platform)/' },
    },
    {
      name: 'platform-shares-the-kit-not-the-gateway',
      severity: 'error',
      comment: 'The reference services use lib/http, never the gateway server or its handlers.',
      from: { path: '^platform/' },
      to: { path: '^(server|handlers)/' },
    },
    {
      name: 'only-entry-points-import-server',
      severity: 'error',
      from: { path: '^(lib|core|clients|handlers|platform)/' },
      to: { path: '^server/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|generated)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.cjs'] },
  },
};
