import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface ListeningHttpServer {
  readonly port: number;
  readonly host: string;
  readonly url: string;
  close(): Promise<void>;
}

/** Listens on host:port (0 = a free port) and returns the bound port, its URL and a close that drops keep-alives. */
export async function listenHttp(server: Server, host: string, port: number): Promise<ListeningHttpServer> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    port: bound,
    host,
    url: `http://${host.includes(":") ? `[${host}]` : host}:${bound}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
