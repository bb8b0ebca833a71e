// One queue for the GPU work of the session: a training chunk, a state read, a history read and a rebuild never
// interleave (readbacks need a quiet queue, and a rebuild must not free buffers a chunk is using).

/** Runs tasks one at a time, in call order. */
export class Lock {
  private tail: Promise<unknown> = Promise.resolve();

  /** Runs `task` after every task queued before it; a failed task does not stop the ones behind it. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
