import { BlockList, isIP } from 'node:net';
import { ConfigError } from '../config/config-error';

/**
 * Who may scrape /metrics: loopback always, plus METRICS_ALLOWED_IPS (addresses or CIDRs).
 * Uses the socket's peer address: a reverse proxy in front counts as the proxy.
 */
export function metricsAllowList(entries: readonly string[]): (ip: string) => boolean {
  const list = new BlockList();
  list.addSubnet('127.0.0.0', 8, 'ipv4');
  list.addAddress('::1', 'ipv6');
  for (const entry of entries) {
    const [addr = '', prefix] = entry.split('/');
    const family = isIP(addr);
    const bits = prefix === undefined ? undefined : Number(prefix);
    const max = family === 6 ? 128 : 32;
    if (family === 0 || (bits !== undefined && (!Number.isInteger(bits) || bits < 0 || bits > max))) {
      throw new ConfigError(`Invalid environment variable METRICS_ALLOWED_IPS: "${entry}" is not an IP address or CIDR`);
    }
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, bits, type);
  }
  return (ip: string) => {
    const plain = ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
    const family = isIP(plain);
    return family !== 0 && list.check(plain, family === 6 ? 'ipv6' : 'ipv4');
  };
}
