/** ServerCore's config_mu_: one holder at a time, in arrival order (a blocked reload also blocks the file poll). */
export class ReloadLock {
  private tail: Promise<void> = Promise.resolve();

  run<T>(body: () => Promise<T>): Promise<T> {
    const result = this.tail.then(body);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
