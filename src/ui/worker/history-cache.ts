// Per-layer unit histories (Observatory.readUnitHistory) read back at most once per trained step: the hover tooltip,
// the death orders and the seed answer all read them, and reading a million-unit layer takes a while.

/** A run whose unit histories can be read (between training chunks). */
export interface HistorySource {
  /** Training steps completed. */
  readonly step: number;
  readUnitHistory(layer: number): Promise<Uint32Array>;
}

export class HistoryCache {
  private readonly layers = new Map<number, { step: number; words: Uint32Array }>();

  /** The history of hidden layer `layer` (1-based) at the run's current step. */
  async read(run: HistorySource, layer: number): Promise<Uint32Array> {
    const cached = this.layers.get(layer);
    if (cached && cached.step === run.step) return cached.words;
    const words = await run.readUnitHistory(layer);
    this.layers.set(layer, { step: run.step, words });
    return words;
  }

  clear(): void {
    this.layers.clear();
  }
}
