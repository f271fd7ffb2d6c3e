/**
 * What the hub needs of a client connection. The edge implements it for a `ws` socket
 * (gateway/ws-transport.ts); nothing below the edge knows which library carries the frames.
 */
export interface Transport {
  readonly isOpen: boolean;
  /** Bytes written to the connection that the client has not taken yet. */
  readonly bufferedBytes: number;
  /** Sends one UTF-8 text frame; the caller has checked isOpen. */
  write(data: Buffer): void;
  /** Starts a close handshake; resolves once closed, terminating the connection after `graceMs`. */
  close(code: number, reason: string, graceMs: number): Promise<void>;
  /** Drops the connection without a handshake. */
  terminate(): void;
  /** Resolves once at most `bytes` are buffered, or the connection is gone. */
  drained(bytes: number): Promise<void>;
}
