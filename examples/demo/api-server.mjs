// The demo's issue-tracker API: a tiny HTTPS server on 127.0.0.1 (loopback only), standing in for
// the real service a project's agent would talk to. It answers GET /issues/1 to a request that
// carries `Authorization: Bearer <the real DEMO_API_TOKEN>` — which only airlock's proxy can add,
// because the agent holds a placeholder. It records every request (method, path, whether the
// token was right; never the token) as JSON lines, the evidence demo.sh checks.
//
// usage: node api-server.mjs DIR   (needs dist/ built: the certificate comes from airlock's own
// X.509 code). Writes DIR/api-ca.pem (the CA the proxy trusts through network.upstreamCA),
// DIR/api-requests.jsonl, and DIR/api-port once it listens.
import { appendFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { join } from 'node:path';
import { createSessionCA } from '../../dist/src/secrets/x509.js';

const dir = process.argv[2];
const token = process.env.DEMO_API_TOKEN;
if (!dir || !token) {
  console.error('usage: DEMO_API_TOKEN=... node api-server.mjs DIR');
  process.exit(2);
}

const ISSUE = 'slugify() leaves a dash at either end: slugify("Hello, World!") returns "hello-world-", expected "hello-world". Fix it and keep the tests green.';

const ca = createSessionCA('airlock demo issue-tracker CA');
const leaf = ca.leaf('127.0.0.1');
writeFileSync(join(dir, 'api-ca.pem'), ca.certPem);
const log = join(dir, 'api-requests.jsonl');

const server = createServer({ key: leaf.keyPem, cert: leaf.certPem }, (req, res) => {
  const authorized = req.headers.authorization === `Bearer ${token}`;
  appendFileSync(log, `${JSON.stringify({ method: req.method, path: req.url, authorized })}\n`);
  if (!authorized) {
    res.writeHead(401, { 'content-type': 'text/plain' }).end('unauthorized\n');
    return;
  }
  if (req.method === 'GET' && req.url === '/issues/1') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`${ISSUE}\n`);
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain' }).end('no such issue\n');
});

server.listen(0, '127.0.0.1', () => {
  writeFileSync(join(dir, 'api-port'), String(server.address().port));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
