// `npm run docs:check`: every relative link and #anchor in README.md and docs/*.md resolves.
import { join } from 'node:path';
import { checkDocLinks } from './doc-links';

const ROOT = join(__dirname, '..', '..', '..'); // compiled to node_modules/.cache/nest-chat-docs-check/

const report = checkDocLinks(ROOT);
for (const { file, line, target, reason } of report.problems) console.error(`${file}:${line}: ${target}: ${reason}`);
if (report.problems.length > 0) {
  console.error(`${report.problems.length} broken link(s) of ${report.links} in ${report.files.length} files`);
  process.exit(1);
}
console.log(`${report.links} relative links in ${report.files.length} files (${report.files.join(', ')}): all resolve`);
