// MCP protocol revisions the satellite serves, newest first.
export const LATEST_PROTOCOL_VERSION = '2025-11-25';
export const SUPPORTED_PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'] as const;
/** Assumed when a Streamable HTTP request carries no MCP-Protocol-Version header (spec 2025-06-18). */
export const DEFAULT_HEADER_PROTOCOL_VERSION = '2025-03-26';

export function isSupportedProtocolVersion(v: string): boolean {
  return (SUPPORTED_PROTOCOL_VERSIONS as readonly string[]).includes(v);
}

/** Version negotiation: echo a supported request, otherwise offer our latest. */
export function negotiateProtocolVersion(requested: unknown): string {
  return typeof requested === 'string' && isSupportedProtocolVersion(requested) ? requested : LATEST_PROTOCOL_VERSION;
}

/** Batches exist only in 2025-03-26 (and are tolerated for 2024-11-05). */
export function allowsBatches(version: string): boolean {
  return version === '2025-03-26' || version === '2024-11-05';
}
