import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeqpacketSocket } from 'node-unix-socket';
import { listenSeqpacket, type PolledConnection } from './seqpacket-listener.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function pair(t: { after(fn: () => void): void }): Promise<{ server: PolledConnection; client: SeqpacketSocket; errors: Error[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-seqpacket-'));
  const errors: Error[] = [];
  let server: PolledConnection | undefined;
  const listener = listenSeqpacket(join(dir, 's.sock'), 4, (c) => (server = c), (e) => errors.push(e));
  t.after(() => {
    server?.close();
    listener.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const client = new SeqpacketSocket();
  await new Promise<void>((r) => client.connect(join(dir, 's.sock'), () => r()));
  for (let i = 0; i < 200 && !server; i++) await sleep(5);
  assert.ok(server, 'the connection was accepted');
  return { server, client, errors };
}

test('polled SEQPACKET: every packet arrives whole and in order, up to a large one; the budget bounds a drain; EOF is reported', async (t) => {
  const { server, client, errors } = await pair(t);
  assert.equal(server.drain(() => assert.fail('nothing was sent'), 10), 0, 'an empty socket drains to 0 without blocking');

  // a stream much longer than the socket buffer holds, read while it is written (as the Sentry does)
  const sizes = Array.from({ length: 3000 }, (_, i) => 8 + ((i * 37) % 400));
  sizes[1234] = 150_000; // far above one page: boundaries hold for large trace messages too
  const got: Buffer[] = [];
  let budgetRespected = true;
  const timer = setInterval(() => {
    const n = server.drain((p) => got.push(Buffer.from(p)), 100);
    if (typeof n === 'number' && n > 100) budgetRespected = false;
  }, 2);
  for (let i = 0; i < sizes.length; i++) {
    const b = Buffer.alloc(sizes[i]!, i % 251);
    b.writeUInt32LE(i, 0);
    await new Promise<void>((r) => client.write(b, 0, b.length, () => r()));
  }
  for (let i = 0; i < 500 && got.length < sizes.length; i++) await sleep(5);
  clearInterval(timer);
  assert.ok(budgetRespected);
  assert.equal(got.length, sizes.length);
  got.forEach((p, i) => {
    assert.equal(p.length, sizes[i], `packet ${i} length`);
    assert.equal(p.readUInt32LE(0), i, `packet ${i} in order`);
    assert.equal(p[p.length - 1], i % 251, `packet ${i} content`);
  });

  // control messages go the other way
  const reply = new Promise<Buffer>((r) => client.once('data', (b: Buffer) => r(b)));
  server.write(Buffer.from([0x08, 0x01]));
  assert.deepEqual([...(await reply)], [0x08, 0x01]);

  // what is still queued when the peer leaves is read first, then EOF
  await new Promise<void>((r) => client.write(Buffer.from('last'), 0, 4, () => r()));
  client.destroy();
  await sleep(20);
  const tail: string[] = [];
  assert.equal(server.drain((p) => tail.push(p.toString()), 10), 1);
  assert.deepEqual(tail, ['last']);
  assert.equal(server.drain(() => assert.fail('after EOF'), 10), 'eof');
  assert.deepEqual(errors, []);
});

test('polled SEQPACKET: reading a closed connection is an error, not a silent empty read', async (t) => {
  const { server } = await pair(t);
  server.close();
  assert.throws(() => server.drain(() => {}, 1), /closed connection/);
});
