/**
 * Parses a daemon address: "ws://host:port/rpc" or "wss://..." for a
 * WebSocket (browsers and Node), "unix:/path" (or an absolute path) for a
 * Unix socket, "host:port" or "[v6]:port" for TCP (Node only).
 * @param {string} address
 * @returns {{url: string} | {path: string} | {host: string, port: number}}
 */
export function parseAddress(address) {
  if (typeof address !== 'string' || address === '') {
    throw new TypeError('address must be "ws://host:port/rpc", "host:port" or "unix:/path"');
  }
  if (/^wss?:\/\//i.test(address)) {
    let url;
    try {
      url = new URL(address);
    } catch {
      throw new TypeError(`bad address "${address}": not a WebSocket URL`);
    }
    return { url: url.href };
  }
  if (address.startsWith('unix:')) return { path: address.slice(5) };
  if (address.startsWith('/')) return { path: address };
  const colon = address.lastIndexOf(':');
  const port = Number(address.slice(colon + 1));
  let host = address.slice(0, colon);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (colon <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new TypeError(`bad address "${address}": expected "ws://host:port/rpc", "host:port" or "unix:/path"`);
  }
  return { host, port };
}
