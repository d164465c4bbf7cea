/** The gateway's metrics: what each answered request adds, and `/metrics`' text. */
export interface MetricsView {
  /** One answered request: its operation (or `unmatched`), its status, its duration. */
  observe(operation: string, status: number, seconds: number): void;
  /** Where the WebSocket figures come from, once the listener exists. */
  watchWebSockets(ws: {
    readonly clients: number;
    readonly sent: number;
    readonly received: number;
  }): void;
  /** The Prometheus text format. */
  render(): Promise<string>;
  readonly contentType: string;
}
