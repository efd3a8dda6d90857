import type { MrtrStore } from '../../gateway/mrtr-store';
import type { TransportDeps } from '../deps';
import type { ListenStreams } from './listen';
import type { ParamHeaderCache } from './param-headers';

/** What modern (2026-07-28) requests need besides the shared transport deps. */
export interface ModernDeps extends TransportDeps {
  /** Calls waiting for the client's inputResponses. */
  parked: MrtrStore;
  /** Open subscriptions/listen streams, ended at shutdown. */
  listens: ListenStreams;
  /** Which tool parameters travel as Mcp-Param-* headers. */
  paramHeaders: ParamHeaderCache;
}
