// A minimal event emitter with VS Code's `Event` shape, so connection code stays free of the vscode
// module (it runs in plain mocha tests and in the extension host alike).

/** Something that can be disposed. */
export interface Disposable {
  dispose(): void;
}

/** Subscribe with a listener; dispose the result to unsubscribe (VS Code's `Event<T>` shape). */
export type Event<T> = (listener: (e: T) => void) => Disposable;

/** Owns a listener list and exposes it as an `Event`. */
export class Emitter<T> {
  private listeners: ((e: T) => void)[] = [];

  /** The public subscription function. */
  readonly event: Event<T> = (listener) => {
    this.listeners.push(listener);
    return { dispose: () => void (this.listeners = this.listeners.filter((l) => l !== listener)) };
  };

  /** Calls every listener; one throwing listener does not stop the others. */
  fire(e: T): void {
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch (err) {
        // A broken view must not break the connection that feeds it.
        console.error('rigwatch: listener failed', err);
      }
    }
  }

  /** Drops every listener. */
  dispose(): void {
    this.listeners = [];
  }
}
