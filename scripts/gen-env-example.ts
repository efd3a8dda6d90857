// Regenerates .env.example from src/config/env-spec.ts: `npx tsx scripts/gen-env-example.ts > .env.example`
import { ENV_SPEC } from '../src/config/env-spec';

const lines = ['# Satellite environment. Every variable is optional unless noted; defaults shown.', '# Generated from src/config/env-spec.ts (npx tsx scripts/gen-env-example.ts > .env.example).', ''];
for (const spec of ENV_SPEC) {
  const kind = spec.kind;
  const allowed = kind.type === 'int' ? `integer ${kind.min}-${kind.max}` : kind.type === 'enum' ? kind.values.join('|') : kind.type === 'string' && kind.hint ? kind.hint : kind.type;
  lines.push(`# ${spec.description} (${allowed})`);
  lines.push(spec.default !== undefined ? `${spec.name}=${spec.default}` : `# ${spec.name}=`);
  lines.push('');
}
process.stdout.write(lines.join('\n'));
