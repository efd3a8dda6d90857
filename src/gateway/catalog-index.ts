// One caller's view of its team: every visible server's catalog merged into namespaced lists and
// routing tables (namespaced tool/prompt name → server, resource URI or template → server).
import type { JsonObject } from '../mcp/jsonrpc';
import type { Catalog } from './catalog-cache';
import type { DisabledTools } from './disabled-tools';
import { namespaced } from './naming';
import type { GatewayUpstream } from './server-directory';

export interface Routed {
  upstream: GatewayUpstream;
  /** The server's own item (original name). */
  item: JsonObject;
}

export interface CatalogIndex {
  tools: Array<Routed & { name: string }>;
  prompts: Array<Routed & { name: string }>;
  resources: Routed[];
  templates: Array<Routed & { pattern: RegExp }>;
}

export function buildIndex(
  entries: Array<{ upstream: GatewayUpstream; catalog: Catalog }>,
  disabled: DisabledTools,
  onDuplicateUri: (uri: string, kept: string, dropped: string) => void
): CatalogIndex {
  const index: CatalogIndex = { tools: [], prompts: [], resources: [], templates: [] };
  const uris = new Map<string, GatewayUpstream>();
  for (const { upstream, catalog } of entries) {
    const slug = upstream.serverSlug;
    for (const tool of catalog.tools) {
      if (typeof tool.name !== 'string' || disabled.isDisabled(upstream.config, tool.name)) continue;
      index.tools.push({ upstream, item: tool, name: namespaced(slug, tool.name) });
    }
    for (const prompt of catalog.prompts) {
      if (typeof prompt.name === 'string') index.prompts.push({ upstream, item: prompt, name: namespaced(slug, prompt.name) });
    }
    for (const resource of catalog.resources) {
      if (typeof resource.uri !== 'string') continue;
      const owner = uris.get(resource.uri);
      // Entries come sorted by slug: the first server wins, deterministically.
      if (owner) {
        if (owner !== upstream) onDuplicateUri(resource.uri, owner.serverSlug, slug);
        continue;
      }
      uris.set(resource.uri, upstream);
      index.resources.push({ upstream, item: resource });
    }
    for (const template of catalog.resourceTemplates) {
      if (typeof template.uriTemplate === 'string') index.templates.push({ upstream, item: template, pattern: templatePattern(template.uriTemplate) });
    }
  }
  return index;
}

/** The server that serves a URI (or a URI template, as completion refs name them). */
export function resourceOwner(index: CatalogIndex, uri: string): GatewayUpstream | undefined {
  return index.resources.find((r) => r.item.uri === uri)?.upstream
    ?? index.templates.find((t) => t.item.uriTemplate === uri || t.pattern.test(uri))?.upstream;
}

/** RFC 6570 template → a regex matching its expansions (loosely: good enough to route). */
export function templatePattern(template: string): RegExp {
  let out = '';
  let last = 0;
  for (const m of template.matchAll(/\{([+#./;?&]?)[^}]*\}/g)) {
    out += escape(template.slice(last, m.index));
    const op = m[1];
    out += op === '+' || op === '#' ? '.*' : op === '?' || op === '&' ? '(?:[?&].*)?' : op === '/' ? '(?:/[^?#]*)?' : op === '.' || op === ';' ? '[^/?#]*' : '[^/?#]+';
    last = m.index + m[0].length;
  }
  return new RegExp(`^${out}${escape(template.slice(last))}$`);
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
