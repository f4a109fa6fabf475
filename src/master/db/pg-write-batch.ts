/**
 * Sends the statements a connection is given in one turn of the event loop in one write. node-pg
 * writes each query on its own (a writev per statement), which was the largest cost of the
 * master's CPU on PostgreSQL (about 40% of its busy time in a create). In pipeline mode the writer
 * queue gives the connection several statements at once (a mutation's writes, then its next read);
 * corking the socket until the microtasks of this turn have run makes them one writev.
 */
import type { Duplex } from 'node:stream';

export class WriteBatch {
  private corked = false;

  constructor(private readonly stream: Duplex) {}

  /** Holds what is written from now until the end of this turn (the queued microtasks included). */
  hold(): void {
    if (this.corked) return;
    this.corked = true;
    this.stream.cork();
    // A tick queued now runs once the microtask queue is empty: after every statement this turn sends.
    process.nextTick(() => {
      this.corked = false;
      this.stream.uncork();
    });
  }
}
