/**
 * Whether anything listens at a chunkserver's address. A refused TCP connection means the host
 * answered and no process has the port open: the chunkserver that was there is gone, and with it
 * any lease it held (leases live in a chunkserver's memory). A timeout proves nothing (a partition
 * looks the same as a slow host), so it counts as "maybe alive".
 */
import { connect } from 'node:net';
import { parseHostPort } from '../../common/config/address.js';

export function refusesConnections(address: string, timeoutMs = 1_000): Promise<boolean> {
  const { host, port } = parseHostPort(address);
  return new Promise((resolve) => {
    const socket = connect({ host: host.replace(/^\[|\]$/g, ''), port });
    const done = (refused: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(refused);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(false));
    socket.once('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED'));
  });
}
