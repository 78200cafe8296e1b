import { isIP } from "node:net";
import { UsageError } from "../errors.js";

export const DEFAULT_OPS_LISTEN = "127.0.0.1:9464";

export interface ListenAddress {
  host: string;
  port: number;
}

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const EXAMPLES =
  "e.g. 127.0.0.1:9464 (this machine only) or 0.0.0.0:9464 (all interfaces, for Kubernetes probes)";

/** Parses HOST:PORT or [IPv6]:PORT; `where` names the flag or config key in errors. */
export function parseListenAddress(text: string, where = "--http"): ListenAddress {
  const fail = (what: string, hint = `write HOST:PORT, ${EXAMPLES}`): never => {
    throw new UsageError(`listen address "${text}" ${what}`, { where, hint });
  };
  const trimmed = text.trim();
  let host: string;
  let portText: string;
  if (trimmed.startsWith("[")) {
    const close = trimmed.indexOf("]");
    if (close < 0) fail("has an unclosed [");
    host = trimmed.slice(1, close);
    if (trimmed[close + 1] !== ":") fail("has no :PORT after the ]");
    portText = trimmed.slice(close + 2);
    if (isIP(host) !== 6) fail(`has "${host}" in brackets, which is not an IPv6 address`);
  } else {
    const colon = trimmed.lastIndexOf(":");
    if (colon < 0) fail("has no port");
    host = trimmed.slice(0, colon);
    portText = trimmed.slice(colon + 1);
    if (host.includes(":"))
      fail("looks like a bare IPv6 address", `put IPv6 addresses in brackets, e.g. [::1]:9464`);
    if (host === "") fail("has no host", `write HOST:PORT, ${EXAMPLES}`);
    if (isIP(host) === 0 && !HOSTNAME.test(host))
      fail(`has "${host}", which is not an IP address or host name`);
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535)
    fail(`has port "${portText}", which is not a number from 0 to 65535`);
  return { host, port: Number(portText) };
}

export function formatListenAddress({ host, port }: ListenAddress): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
