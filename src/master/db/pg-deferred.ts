/**
 * The statements the PostgreSQL writer sent without waiting for them (EngineWriter.runLater,
 * savepoints): node-pg in pipeline mode writes each behind the one before, so a mutation's writes
 * share one round trip. Their answers come back in the order they were sent; this keeps the last
 * one's promise and the first failure, which the writer gives as the reason when COMMIT answers
 * ROLLBACK (a failed statement aborted the transaction: nothing after it is acknowledged), or when
 * a statement the body waited for failed behind it.
 */
export class DeferredStatements {
  private tail: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | undefined;
  /**
   * Moves at each reset. A statement of an earlier transaction can answer after it ended (its
   * connection was lost and the writer went on without waiting for the rest of its answers):
   * its failure is not the new transaction's.
   */
  private generation = 0;

  /** A statement sent and not awaited. */
  add(answer: Promise<unknown>): void {
    // Answers arrive in order: once the last has settled, so has every one before it.
    const generation = this.generation;
    this.tail = answer.then(() => undefined, (e: unknown) => {
      if (generation === this.generation) this.failure ??= { error: e };
    });
  }

  /** Waits until every statement sent so far has answered; the first failure among them, if any. */
  async settled(): Promise<{ error: unknown } | undefined> {
    await this.tail;
    return this.failure;
  }

  /** A new transaction: what failed in the last one is forgotten (it was rolled back). */
  reset(): void {
    this.generation++;
    this.tail = Promise.resolve();
    this.failure = undefined;
  }
}
