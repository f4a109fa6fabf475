/**
 * A stopping daemon answers the unary calls in flight before it closes their connection
 * (RpcServer.tryShutdown draining wire-server.ts connections), and refuses new ones with
 * UNAVAILABLE without running them. A call dropped instead could have taken effect unseen and be
 * retried on the next master: a master restarted while a mount's batch of mkdirs was being
 * committed (slow enough on PostgreSQL to overlap the SIGTERM) answered the retry EEXIST.
 */
import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/common/log/logger.js';
import { createRpcServer, type RpcServer } from '../../src/common/rpc/server.js';
import { WireChannel } from '../../src/common/rpc/wire-client.js';

const SLOW = '/fst.test.Slow/Call';

describe('unary calls across a graceful stop', () => {
  let server: RpcServer | undefined;
  let channel: WireChannel | undefined;
  afterEach(() => {
    channel?.close();
    server?.forceShutdown();
    channel = server = undefined;
  });

  it('answers the call in flight, refuses new ones with UNAVAILABLE unrun, then finishes', async () => {
    let invocations = 0;
    let release = (): void => {};
    const gate = new Promise<void>((r) => (release = r));
    let started = (): void => {};
    const running = new Promise<void>((r) => (started = r));
    server = createRpcServer(silentLogger);
    server.wire.set(SLOW, {
      deserializeRequest: (b) => b,
      serializeResponse: (v) => v as Buffer,
      invoke: async (request) => {
        invocations++;
        started();
        await gate;
        return Buffer.concat([Buffer.from('done '), request as Buffer]);
      },
    });
    const port = await server.bind('127.0.0.1:0');
    channel = new WireChannel(`127.0.0.1:${port}`);

    const inFlight = channel.call(SLOW, Buffer.from('first'), 60_000);
    await running;
    let finished = false;
    const shutdown = new Promise<void>((resolve) => server!.tryShutdown(() => {
      finished = true;
      resolve();
    }));

    await expect(channel.call(SLOW, Buffer.from('second'), 60_000)).rejects.toMatchObject({ code: status.UNAVAILABLE });
    expect(invocations).toBe(1);
    expect(finished).toBe(false);

    release();
    expect((await inFlight).toString()).toBe('done first');
    await shutdown;
    expect(finished).toBe(true);
    expect(invocations).toBe(1);
  });
});
