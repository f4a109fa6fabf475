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

  /** A statement sent and not awaited. */
  add(answer: Promise<unknown>): void {
    // Answers arrive in order: once the last has settled, so has every one before it.
    this.tail = answer.then(() => undefined, (e: unknown) => {
      this.failure ??= { error: e };
    });
  }

  /** Waits until every statement sent so far has answered; the first failure among them, if any. */
  async settled(): Promise<{ error: unknown } | undefined> {
    await this.tail;
    return this.failure;
  }

  /** A new transaction: what failed in the last one is forgotten (it was rolled back). */
  reset(): void {
    this.tail = Promise.resolve();
    this.failure = undefined;
  }
}
