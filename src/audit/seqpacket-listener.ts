/**
 * A SOCK_SEQPACKET listener whose connections are read by polling, in batches, rather than one
 * callback per packet.
 *
 * Why not node-unix-socket's own `'data'` events: they deliver each packet through a libuv poll
 * wake-up, an N-API call and a freshly allocated, zeroed 256 KiB buffer. For the gVisor trace
 * stream (one packet per traced syscall) that cost ~60 µs of CPU per packet before any decoding,
 * the largest part of monitoring's overhead (bench/audit). Here the library still does what Node
 * cannot (bind, listen and accept on SEQPACKET); each accepted socket is then read with plain
 * non-blocking `read(2)`s (`fs.readSync`) into one reused buffer, every few milliseconds: a
 * syscall per packet and one timer wake-up per batch.
 *
 * This takes the accepted fd from node-unix-socket's internal `_connection` event and wraps it
 * in the addon's `SeqpacketSocketWrap` (which sets O_NONBLOCK and owns the close). Both are
 * internals of the pinned version; `listenSeqpacket` checks they are there and throws otherwise,
 * so a library change stops the monitor (and the session) instead of silently losing events.
 */
import { EventEmitter } from 'node:events';
import { readFileSync, readSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { SeqpacketServer } from 'node-unix-socket';

interface SocketWrap {
  init(self: SocketWrap): void;
  close(): void;
}
type SocketWrapClass = new (ee: EventEmitter, fd: number) => SocketWrap;

const require = createRequire(import.meta.url);

function socketWrapClass(): SocketWrapClass {
  const addon = require('node-unix-socket/js/addon.js') as { SeqpacketSocketWrap?: SocketWrapClass };
  if (typeof addon.SeqpacketSocketWrap !== 'function') throw new Error('node-unix-socket: SeqpacketSocketWrap not found (unsupported library version)');
  return addon.SeqpacketSocketWrap;
}

/**
 * The largest packet a peer can send on a unix socket is its send buffer (minus a few bytes);
 * the Sentry does not change its SO_SNDBUF, so the system default bounds every trace message.
 * A read that fills the buffer may have been truncated: it is reported, not decoded.
 */
function readBufferSize(): number {
  try {
    const wmemDefault = Number(readFileSync('/proc/sys/net/core/wmem_default', 'utf8').trim());
    if (Number.isFinite(wmemDefault) && wmemDefault > 0) return Math.max(256 * 1024, wmemDefault + 4096);
  } catch {
    /* not Linux procfs: fall through */
  }
  return 4 * 1024 * 1024;
}

export interface PolledConnection {
  /**
   * Reads up to `max` packets that are waiting, calling `onPacket` with each. The buffer is
   * reused: it is valid only during the call. Returns the number read, or 'eof' once the peer
   * has closed and everything it sent was read. Throws on a read error or a truncated packet.
   */
  drain(onPacket: (packet: Buffer) => void, max: number): number | 'eof';
  /** One packet, written without blocking (small control messages such as a handshake). */
  write(packet: Buffer): void;
  close(): void;
}

export interface SeqpacketListener {
  close(): void;
}

export function listenSeqpacket(path: string, backlog: number, onConnection: (conn: PolledConnection) => void, onError: (err: Error) => void): SeqpacketListener {
  const SocketWrap = socketWrapClass();
  const server = new SeqpacketServer();
  if (server.listenerCount('_connection') !== 1) throw new Error('node-unix-socket: no internal _connection handler (unsupported library version)');
  server.removeAllListeners('_connection');
  server.on('_connection', (fd: number) => {
    try {
      onConnection(polledConnection(fd, SocketWrap));
    } catch (err) {
      onError(err as Error);
    }
  });
  server.on('error', onError);
  server.listen(path, backlog);
  return { close: () => server.close() };
}

function polledConnection(fd: number, SocketWrap: SocketWrapClass): PolledConnection {
  const events = new EventEmitter();
  events.emit = events.emit.bind(events); // the addon calls emit unbound
  events.on('_error', () => {
    /* read errors surface through drain(); the wrap only reports on close */
  });
  const wrap = new SocketWrap(events, fd);
  wrap.init(wrap);
  const buf = Buffer.allocUnsafe(readBufferSize());
  let closed = false;
  let eof = false;
  return {
    drain(onPacket, max) {
      if (eof) return 'eof';
      if (closed) throw new Error('read from a closed connection');
      let n = 0;
      while (n < max) {
        let len: number;
        try {
          len = readSync(fd, buf, 0, buf.length, null);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return n;
          throw err;
        }
        if (len === 0) {
          eof = true;
          return n > 0 ? n : 'eof';
        }
        if (len === buf.length) throw new Error(`packet of ${len} bytes or more fills the read buffer; it may be truncated`);
        onPacket(buf.subarray(0, len));
        n++;
      }
      return n;
    },
    write(packet) {
      writeSync(fd, packet);
    },
    close() {
      if (closed) return;
      closed = true;
      wrap.close();
    },
  };
}
