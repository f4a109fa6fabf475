/**
 * A TCP forwarder in the test process: connections to `listenHost:port` are piped to `target`.
 * Lets daemons inside a NetLab host reach a server that listens on 127.0.0.1 of the root namespace
 * (the test PostgreSQL): they reach the forwarder at the lab's root address, and cutting their host
 * off stalls their connections as it would a remote database's. `close()` drops every connection.
 */
import { connect, createServer, type Socket } from 'node:net';

export interface TcpForward {
  port: number;
  close(): Promise<void>;
}

export async function forwardTcp(listenHost: string, target: { host: string; port: number }): Promise<TcpForward> {
  const sockets = new Set<Socket>();
  const track = (s: Socket): void => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };
  const server = createServer((inbound) => {
    const outbound = connect(target.port, target.host);
    track(inbound);
    track(outbound);
    inbound.pipe(outbound);
    outbound.pipe(inbound);
    inbound.once('close', () => outbound.destroy());
    outbound.once('close', () => inbound.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, listenHost, () => resolve());
  });
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('forwarder bound no port');
  return {
    port: addr.port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
