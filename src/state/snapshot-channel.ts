/** A published tag snapshot: its version (1, 2, … across the fleet) and its bytes (compressed, as published). */
export interface PublishedSnapshot {
  readonly version: number;
  readonly data: Buffer;
}

/**
 * One tag scraper for the fleet: a lease that one replica holds at a time (it scrapes AWS and publishes
 * each snapshot), and the snapshot every replica loads when its version changes.
 */
export interface SnapshotChannel {
  /** Takes the lease when free, or renews it when held; true while this process holds it. */
  lead(ttlMs: number): Promise<boolean>;
  /** Gives the lease up (on shutdown), so that another replica takes over at once. */
  resign(): Promise<void>;
  /** Publishes a snapshot as the next version; undefined when this process no longer holds the lease. */
  publish(data: Buffer): Promise<number | undefined>;
  /** The version published last, or undefined when none was. */
  version(): Promise<number | undefined>;
  load(): Promise<PublishedSnapshot | undefined>;
}

/** The channel of a single process: it always leads, and reads back what it published. */
export class MemorySnapshotChannel implements SnapshotChannel {
  private published: PublishedSnapshot | undefined;

  async lead(): Promise<boolean> {
    return true;
  }

  async resign(): Promise<void> {}

  async publish(data: Buffer): Promise<number> {
    this.published = { version: (this.published?.version ?? 0) + 1, data };
    return this.published.version;
  }

  async version(): Promise<number | undefined> {
    return this.published?.version;
  }

  async load(): Promise<PublishedSnapshot | undefined> {
    return this.published;
  }
}
