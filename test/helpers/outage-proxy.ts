/**
 * A TCP proxy in front of a test server that can be switched off, to play a network outage:
 * while down, new connections are reset at once and every open one is cut.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface OutageProxy {
  /** e.g. http://127.0.0.1:40123 */
  endpoint: string;
  /** Connections accepted so far. */
  connections(): number;
  setDown(down: boolean): void;
  close(): Promise<void>;
}

/** Starts the proxy on 127.0.0.1 (a free port), forwarding to `upstream` (http://host:port). */
export async function startOutageProxy(upstream: string): Promise<OutageProxy> {
  const target = new URL(upstream);
  const open = new Set<Socket>();
  let down = false;
  let count = 0;
  const server: Server = createServer((client) => {
    count++;
    if (down) {
      client.resetAndDestroy();
      return;
    }
    const up = connect(Number(target.port), target.hostname);
    open.add(client);
    open.add(up);
    const drop = () => {
      client.destroy();
      up.destroy();
      open.delete(client);
      open.delete(up);
    };
    client.on('error', drop).on('close', drop);
    up.on('error', drop).on('close', drop);
    client.pipe(up);
    up.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    connections: () => count,
    setDown(d) {
      down = d;
      if (d) for (const s of open) s.resetAndDestroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}
