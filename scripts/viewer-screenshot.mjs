// A screenshot (the page's first 1450 pixels) of `zhusuan serve` for a run, taken in headless
// Chromium (Debian's /usr/bin/chromium, driven by playwright-core):
//   node scripts/viewer-screenshot.mjs RUN_DIR OUT.png
// Run `npm run build` first. Exits 1 if the page reports an error.
import { chromium } from 'playwright-core';
import { startViewer } from '../packages/cli/dist/src/commands/serve.js';

const [runDir, out] = process.argv.slice(2);
if (!runDir || !out?.endsWith('.png')) {
  console.error('usage: node scripts/viewer-screenshot.mjs RUN_DIR OUT.png');
  process.exit(2);
}
const viewer = await startViewer({ runDir, port: 0, host: '127.0.0.1', images: 100 });
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1000, height: 1450 } });
  await page.goto(viewer.url);
  await page.waitForFunction(
    "/^(ready|viewer:)/.test(document.getElementById('status').textContent)",
    null,
    { timeout: 120_000 },
  );
  const status = await page.textContent('#status');
  console.error(status);
  if (!status.startsWith('ready')) process.exitCode = 1;
  await page.screenshot({ path: out });
  console.error(`wrote ${out}`);
} finally {
  await browser.close();
  await viewer.close();
}
