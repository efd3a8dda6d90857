// `npm start` runs the built daemon; build it first on a fresh clone.
import { existsSync } from 'node:fs';
import { execSync } from 'node:child_process';

if (!existsSync(new URL('../dist/index.js', import.meta.url))) {
  console.log('dist/ is missing: building the satellite first (npm run build)');
  execSync('npm run build', { stdio: 'inherit' });
}
