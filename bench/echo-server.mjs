#!/usr/bin/env node
// The benchmark's stdio MCP server: newline-delimited JSON-RPC written by hand (no SDK) so that it
// is never the bottleneck. One tool, `echo`, returns its `text` argument unchanged; the load
// generator checks that it gets back exactly what it sent.
const PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'];
const ECHO_TOOL = {
  name: 'echo',
  description: 'Returns its text argument unchanged',
  inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] }
};

let out = [];
let flushQueued = false;
// Coalesce all answers produced in one tick into one write: fewer syscalls under load.
function send(msg) {
  out.push(JSON.stringify(msg));
  if (!flushQueued) {
    flushQueued = true;
    setImmediate(flush);
  }
}
function flush() {
  flushQueued = false;
  const chunk = out.join('\n') + '\n';
  out = [];
  process.stdout.write(chunk);
}

function answer(msg) {
  const p = msg.params ?? {};
  switch (msg.method) {
    case 'initialize':
      return {
        protocolVersion: PROTOCOL_VERSIONS.includes(p.protocolVersion) ? p.protocolVersion : PROTOCOL_VERSIONS[0],
        capabilities: { tools: {} },
        serverInfo: { name: 'bench-echo', version: '1.0.0' }
      };
    case 'ping':
      return {};
    case 'tools/list':
      return { tools: [ECHO_TOOL] };
    case 'tools/call': {
      if (p.name !== 'echo') return { error: { code: -32602, message: `unknown tool: ${String(p.name)}` } };
      const text = p.arguments?.text;
      if (typeof text !== 'string') return { error: { code: -32602, message: 'echo needs a string "text"' } };
      return { content: [{ type: 'text', text }] };
    }
    default:
      return { error: { code: -32601, message: `method not found: ${String(msg.method)}` } };
  }
}

function onLine(line) {
  if (line.trim() === '') return;
  let msg;
  try {
    msg = JSON.parse(line);
  } catch {
    send({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } });
    return;
  }
  // Notifications and answers to our (never sent) requests need nothing back.
  if (typeof msg !== 'object' || msg === null || typeof msg.method !== 'string' || msg.id === undefined) return;
  const r = answer(msg);
  if (r.error) send({ jsonrpc: '2.0', id: msg.id, error: r.error });
  else send({ jsonrpc: '2.0', id: msg.id, result: r });
}

let buf = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buf += chunk;
  let nl;
  while ((nl = buf.indexOf('\n')) !== -1) {
    onLine(buf.slice(0, nl));
    buf = buf.slice(nl + 1);
  }
});
// stdin closed: answer what is left, then let the event loop drain and exit.
process.stdin.on('end', () => {
  if (buf) onLine(buf);
});
