/**
 * The loop of rounds of a worker that polls L1 (rollup-producer, epoch-revealer): the first round at
 * once, the next after the pause the last one returned, until stopped; stop() waits for the round under
 * way (which may be waiting for its transaction). `exclusive` keeps two rounds from running at once
 * when tests or tools call a round directly.
 */
export class RoundLoop {
  private timer?: NodeJS.Timeout;
  private current?: Promise<void>;
  private running = false;
  private inRound = false;

  /** `step` runs one round, never throws, and returns the pause before the next one in ms. */
  constructor(private readonly step: () => Promise<number>) {}

  /** Starts the loop (the first round at once). False when it was running already. */
  start(): boolean {
    if (this.running) return false;
    this.running = true;
    this.schedule(0);
    return true;
  }

  /** Stops after the current round. False when it was not running. */
  async stop(): Promise<boolean> {
    if (!this.running) return false;
    this.running = false;
    clearTimeout(this.timer);
    await this.current;
    return true;
  }

  /** Runs `round`, or throws `busyMessage` while another round is running. */
  async exclusive<T>(busyMessage: string, round: () => Promise<T>): Promise<T> {
    if (this.inRound) throw new Error(busyMessage);
    this.inRound = true;
    try {
      return await round();
    } finally {
      this.inRound = false;
    }
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.current = this.step().then((delay) => {
        this.current = undefined;
        if (this.running) this.schedule(delay);
      });
    }, ms);
  }
}
