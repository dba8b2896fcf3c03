/** Teardown runs every step even when one fails, and reports all that failed. */
export class TeardownSteps {
  readonly problems: string[] = [];

  /** Runs `f`; a failure is noted as `what: message` and the teardown goes on. */
  async step(what: string, f: () => Promise<unknown>): Promise<void> {
    try {
      await f();
    } catch (err) {
      this.problems.push(`${what}: ${(err as Error).message}`);
    }
  }
}
