import type { FastifyRequest } from 'fastify';
import { isLoopbackHost } from '../config/bind-guard';

/** A socket address on loopback, including IPv4-mapped IPv6 (::ffff:127.0.0.1). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.toLowerCase().replace(/^::ffff:/, '');
  return a !== 'localhost' && isLoopbackHost(a);
}

/**
 * A request from a loopback peer that did not come through a proxy (a local reverse proxy would
 * otherwise make every remote caller look like loopback).
 */
export function isDirectLoopbackRequest(request: FastifyRequest): boolean {
  if (request.headers['x-forwarded-for'] !== undefined || request.headers.forwarded !== undefined) return false;
  return isLoopbackAddress(request.socket.remoteAddress);
}
