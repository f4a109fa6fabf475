/**
 * A daemon killed between accepting a TCP connection and finishing the TLS handshake closes the
 * connection: that is a connection lost (retried, EIO once retries end), never a credential refused
 * (EACCES). A real TLS client against a real loopback socket that closes every connection at once.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RpcClient } from '../../src/common/rpc/client.js';
import { createCa, issueCertificate } from '../../src/common/security/cluster-ca.js';
import { MasterMethods } from '../../src/common/rpc/services.js';

async function listen(onConnection: (s: Socket) => void): Promise<{ server: Server; address: string }> {
  const server = createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { server, address: `127.0.0.1:${port}` };
}

describe('wire client: a connection reset during the TLS handshake', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
  });

  it('is retried, and ends as EIO (connection lost), not EACCES', async () => {
    const ca = await createCa('test');
    const cert = await issueCertificate(ca, 'client', 'client');
    const credentials = { name: 'client', role: 'client' as const, ca: ca.certPem, cert: cert.certPem, key: cert.keyPem };
    let connections = 0;
    const { server, address } = await listen((s) => {
      connections++;
      s.destroy();
    });
    servers.push(server);

    const once = new RpcClient(address, { retryForMs: 0, timeoutMs: 10_000, tls: { credentials, server: 'master' } });
    const err = await once.unary(MasterMethods.Statfs, {}).then(() => undefined, (e: unknown) => e as { code: string; message: string });
    once.close();
    expect(err?.code).toBe('EIO');
    expect(err?.message).toMatch(/connection lost during the TLS handshake/);

    const before = connections;
    const retrying = new RpcClient(address, { retryForMs: 1_500, timeoutMs: 10_000, tls: { credentials, server: 'master' } });
    const again = await retrying.unary(MasterMethods.Statfs, {}).then(() => undefined, (e: unknown) => e as { code: string });
    retrying.close();
    expect(again?.code).toBe('EIO');
    expect(connections - before, 'connections tried while retrying').toBeGreaterThan(1);
  });
});
