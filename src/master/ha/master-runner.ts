/**
 * fst-master's process around startMaster: a master that loses its lease (several masters on
 * PostgreSQL) has stopped serving at once; this starts it again in the same process, on the same
 * address, where it takes the lease back at once if nobody else took it (a PostgreSQL failover
 * outlasted the lease, say: see TAKE_OVER_OWN) or stands by otherwise. Nothing of the old term
 * (delegations, locks, chunk work) is carried over: the new one starts as a restarted master does.
 */
import type { Logger } from '../../common/log/logger.js';
import { startMaster, type Master, type MasterOptions } from '../master.js';

/** Pause between attempts to start again after a fence (the database may still be away). */
const RETRY_MS = 1_000;

export interface MasterRunner {
  stop(signal?: string): Promise<void>;
}

/** Starts the master (rejects when the first start fails) and keeps it running across fences. */
export async function runMaster(opts: Omit<MasterOptions, 'onFenced' | 'startSignal'>, log: Logger): Promise<MasterRunner> {
  const stopping = new AbortController();
  let current: Master;
  let restarting: Promise<void> | undefined;

  const start = (listen: string | undefined): Promise<Master> =>
    startMaster({ ...opts, listen, log, startSignal: stopping.signal, onFenced: () => (restarting = again(current.address)) });

  const again = async (listen: string): Promise<void> => {
    while (!stopping.signal.aborted) {
      try {
        current = await start(listen);
        log.info('started again after losing the master lease', { address: current.address });
        return;
      } catch (err) {
        if (stopping.signal.aborted) return;
        log.warn('starting again after losing the master lease failed; trying again', { err });
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  };

  current = await start(opts.listen);
  return {
    stop: async (signal) => {
      stopping.abort();
      await restarting;
      await current.stop(signal);
    },
  };
}
