// An undo list for operations that create several things: each step that made something registers how to
// remove it; on failure `rollback` removes them in reverse order and keeps going past errors.
export class UndoStack {
  private actions: { what: string; undo: () => Promise<void> | void }[] = [];

  push(what: string, undo: () => Promise<void> | void): void {
    this.actions.push({ what, undo });
  }

  /** Forget the undo actions: the operation succeeded. */
  commit(): void {
    this.actions = [];
  }

  /** Runs every undo action, newest first. Returns the failures (the original error is what the caller reports). */
  async rollback(): Promise<string[]> {
    const failures: string[] = [];
    while (this.actions.length) {
      const a = this.actions.pop()!;
      try {
        await a.undo();
      } catch (err) {
        failures.push(`${a.what}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return failures;
  }
}
