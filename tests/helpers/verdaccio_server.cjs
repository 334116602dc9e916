/**
 * A verdaccio npm registry on 127.0.0.1, port chosen by the kernel, for the tests
 * (started by tests/helpers/registry.ts). Prints {"port": N} once listening;
 * SIGTERM stops it. verdaccio 6.8.0: the last one for Node 20; package.json
 * overrides its audit middleware's node-fetch "cjs" dist-tag, which the registry
 * no longer has, with node-fetch 2.7.0 (the CommonJS line).
 *
 *   node verdaccio_server.cjs <config.yaml>
 */
const { runServer } = require('verdaccio');

runServer(process.argv[2]).then((app) => {
  const server = app.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
  });
  process.on('SIGTERM', () => {
    server.closeAllConnections?.();
    server.close(() => process.exit(0));
  });
});
