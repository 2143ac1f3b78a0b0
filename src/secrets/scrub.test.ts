import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mask, scrubBuffer, scrubResponse } from './scrub.js';

const V = 'tok_REAL_1234567890abcdefghij';

test('mask keeps the length; scrubBuffer replaces every occurrence and leaves other bytes', () => {
  assert.equal(mask(5).toString(), '*****');
  assert.equal(mask(V.length).length, V.length);
  const { out, hits } = scrubBuffer(Buffer.from(`a${V}b${V}`), [Buffer.from(V)]);
  assert.equal(hits, 2);
  assert.equal(out.length, 2 + 2 * V.length);
  assert.ok(!out.includes(V));
  assert.ok(out.toString().startsWith('a[airlock:redacted]'));
});

async function serve(handler: (res: import('node:http').ServerResponse) => void): Promise<{ body: string; headers: import('node:http').IncomingHttpHeaders; hits: number }> {
  let hits = 0;
  const srv = createServer((_req, res) => {
    scrubResponse(res, () => [V], (n) => (hits += n));
    handler(res);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  try {
    return await new Promise((resolve, reject) => {
      request({ host: '127.0.0.1', port: (srv.address() as AddressInfo).port }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ body: Buffer.concat(chunks).toString(), headers: res.headers, hits }));
      })
        .on('error', reject)
        .end();
    });
  } finally {
    srv.close();
  }
}

test('a reflected value is masked in headers and in a body split across writes (framing intact)', async () => {
  const body = `{"auth":"Bearer ${V}","again":"${V}"}`;
  const r = await serve((res) => {
    res.setHeader('X-Echo', `Bearer ${V}`);
    res.writeHead(200, { 'Content-Length': Buffer.byteLength(body), 'X-Other': [V, 'fine'] });
    // split inside the value, byte by byte at the end
    const cut = body.indexOf(V) + 5;
    res.write(body.slice(0, cut));
    for (const ch of body.slice(cut, cut + 10)) res.write(ch);
    res.end(body.slice(cut + 10));
  });
  assert.ok(!r.body.includes(V));
  assert.equal(r.body.length, body.length);
  assert.ok(!JSON.stringify(r.headers).includes(V));
  assert.match(String(r.headers['x-echo']), /^Bearer \[airlock:redacted\]\*+$/);
  assert.equal(r.hits, 4);
});

test('compressed bodies pass through untouched; unrelated responses are byte-identical', async () => {
  const r = await serve((res) => {
    res.writeHead(200, { 'Content-Encoding': 'gzip' });
    res.end(Buffer.from(V));
  });
  assert.equal(r.body, V); // documented limit: not decompressed
  const plain = await serve((res) => res.end('hello world'));
  assert.equal(plain.body, 'hello world');
  assert.equal(plain.hits, 0);
});
