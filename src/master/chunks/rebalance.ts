/** Rebalancing (skeleton; filled in below). */
import type { fst } from '../../proto-gen/fst.js';

export class Rebalancer {
  progress(): fst.IRebalanceProgress {
    return { state: 'idle' };
  }
  start(_threshold?: number | null, _rate?: number | null): Promise<fst.IRebalanceProgress> {
    return Promise.resolve(this.progress());
  }
  stop(): Promise<fst.IRebalanceProgress> {
    return Promise.resolve(this.progress());
  }
}
