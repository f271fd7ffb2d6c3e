// The slice of autocannon's programmatic API the history scenario uses (the package ships no types).
declare module 'autocannon' {
  interface Request {
    method?: string;
    path?: string;
    setupRequest?: (request: Request) => Request;
  }
  interface Options {
    url: string;
    connections: number;
    pipelining: number;
    duration: number;
    timeout?: number;
    requests?: Request[];
  }
  interface Latency {
    average: number;
    p50: number;
    p90: number;
    p99: number;
    max: number;
  }
  interface Result {
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    '2xx': number;
    latency: Latency;
    requests: { average: number; total: number };
  }
  function autocannon(options: Options): Promise<Result>;
  export = autocannon;
}
