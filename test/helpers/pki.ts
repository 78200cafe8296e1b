// A private CA made by openssl for TLS tests: a CA, a server certificate for one name and a client certificate it
// signed (EC P-256, valid one day), as PEM files in a given directory. Used by the gRPC client's TLS test and by
// the etcd cluster's TLS mode.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

/** PEM file paths. */
export interface Pki {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/**
 * Writes the CA and both certificates into `dir`. `serverName` is the server certificate's subjectAltName,
 * e.g. `IP:127.0.0.1` or `DNS:tfserving.test`.
 */
export function makePki(dir: string, serverName: string): Pki {
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  const newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(
    "req",
    "-x509",
    ...newKey,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "1",
    "-subj",
    "/CN=test-ca",
  );
  // etcd also uses its server certificate as a client (to itself), hence clientAuth on it.
  writeFileSync(
    join(dir, "server.ext"),
    `subjectAltName=${serverName}\nextendedKeyUsage=serverAuth,clientAuth\n`,
  );
  writeFileSync(join(dir, "client.ext"), "extendedKeyUsage=clientAuth\n");
  for (const [name, serial] of [
    ["server", "2"],
    ["client", "3"],
  ] as const) {
    openssl("req", ...newKey, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`);
    const sign = ["-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", serial, "-days", "1"];
    openssl("x509", "-req", "-in", `${name}.csr`, ...sign, "-out", `${name}.pem`, "-extfile", `${name}.ext`);
  }
  return {
    ca: join(dir, "ca.pem"),
    serverCert: join(dir, "server.pem"),
    serverKey: join(dir, "server.key"),
    clientCert: join(dir, "client.pem"),
    clientKey: join(dir, "client.key"),
  };
}
