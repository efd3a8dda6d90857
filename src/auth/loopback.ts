import { isLoopbackHost } from '../config/bind-guard';

/** A socket address on loopback, including IPv4-mapped IPv6 (::ffff:127.0.0.1). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.toLowerCase().replace(/^::ffff:/, '');
  return a !== 'localhost' && isLoopbackHost(a);
}
