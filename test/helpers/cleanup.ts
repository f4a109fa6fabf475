/**
 * What a test must undo, whatever happens: `add` each thing as it is made (a cluster, a mount, a
 * temp dir), and `afterEach(() => cleanup.run())` undoes them newest first (mounts before the
 * cluster they use), going on past a step that fails.
 */
export class Cleanup {
  private readonly fns: (() => Promise<unknown> | unknown)[] = [];

  add(fn: () => Promise<unknown> | unknown): void {
    this.fns.push(fn);
  }

  /** Registers `thing` for `stop` and returns it, for `const x = cleanup.stops(await start())`. */
  stops<T extends { stop(): Promise<unknown> }>(thing: T): T {
    this.add(() => thing.stop());
    return thing;
  }

  async run(): Promise<void> {
    for (const fn of this.fns.splice(0).reverse()) {
      try {
        await fn();
      } catch (e) {
        console.error('cleanup failed', e);
      }
    }
  }
}
