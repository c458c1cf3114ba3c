// Drives Debian's Chromium through playwright-core against a running
// flowsift-console fed with the demo traffic (tests/browser/run.sh starts
// both) and checks each page, saving a screenshot of each.
//   node tests/browser/console.mjs URL SCREENSHOT_DIR [SPEWING_HOST]
// Exits 1 with a message on the first failed check.
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// playwright-core is a package of web/package-lock.json, installed in web/node_modules.
const webDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web');
const { chromium } = createRequire(join(webDir, 'package.json'))('playwright-core');

const [url, shots, spewer = '10.1.66.6'] = process.argv.slice(2);
if (!url || !shots) {
  console.error('usage: node tests/browser/console.mjs URL SCREENSHOT_DIR [SPEWING_HOST]');
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
// Generous: the machine may be loaded by other builds.
const WAIT_MS = 30000;

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
  console.log(`ok - ${message}`);
}

const browser = await chromium.launch({
  executablePath,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
let failed = false;
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  page.on('pageerror', (err) => errors.push(err.message));
  // Every request of the page must stay on the console's own address.
  const origin = new URL(url).origin;
  const foreign = [];
  page.on('request', (req) => { if (!req.url().startsWith(origin)) foreign.push(req.url()); });

  // Top talkers: the demo's largest source and the spewing host are listed.
  await page.goto(`${url}#top`);
  await page.waitForSelector('#top-table tbody tr', { timeout: WAIT_MS });
  const keys = await page.$$eval('#top-table tbody tr', (rows) => rows.map((r) => r.dataset.key));
  check(keys.length > 0, `top talkers table has rows (${keys.length})`);
  check(keys[0] === '198.51.100.1', `top talker row is 198.51.100.1 (got ${keys[0]})`);
  check(keys.includes(spewer), `top talkers include the spewing host ${spewer}`);
  // Drill-down of the spewing host: its peers on port 445.
  await page.click(`#top-table tbody tr[data-key="${spewer}"] a`);
  await page.waitForSelector('#drill-ports tbody tr', { timeout: WAIT_MS });
  const ports = await page.$$eval('#drill-ports tbody tr td:nth-child(2)', (tds) => tds.map((td) => td.textContent));
  check(ports.includes('445'), `drill-down of ${spewer} lists port 445`);
  const peers = await page.$$eval('#drill-peers tbody tr', (rows) => rows.length);
  check(peers > 1, `drill-down of ${spewer} lists its peers (${peers})`);
  await page.screenshot({ path: join(shots, 'console-top.png'), fullPage: true });

  // Live graph: uPlot drew a canvas from series with data points.
  await page.goto(`${url}#graph`);
  await page.waitForSelector('#graph canvas', { timeout: WAIT_MS });
  await page.waitForFunction(() => Number(document.querySelector('#graph').dataset.points) > 0,
    null, { timeout: WAIT_MS });
  const points = await page.$eval('#graph', (el) => Number(el.dataset.points));
  check(points > 0, `graph has data points (${points})`);
  const painted = await page.$eval('#graph canvas', (canvas) => {
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) n += 1;
    return n;
  });
  check(painted > 100, `graph canvas has painted pixels (${painted})`);
  await page.screenshot({ path: join(shots, 'console-graph.png'), fullPage: true });

  // Alerts: the spewing host's fan-out alert with its evidence.
  await page.goto(`${url}#alerts`);
  await page.waitForSelector(`#alerts-table tr[data-subject="${spewer}"]`, { timeout: WAIT_MS });
  const rules = await page.$$eval(`#alerts-table tr[data-subject="${spewer}"] td:nth-child(2)`,
    (tds) => tds.map((td) => td.textContent));
  check(rules.includes('fanout'), `alerts list the fanout alert of ${spewer} (rules: ${rules.join(', ')})`);
  const evidence = await page.$eval('#alerts-table tr.evidence', (tr) => tr.textContent);
  check(/Top ports: 445/.test(evidence), 'the alert evidence names port 445');
  check(/Seen at: [0-9.:a-f]+/.test(evidence), `the alert evidence names the exporter (${evidence})`);
  await page.screenshot({ path: join(shots, 'console-alerts.png'), fullPage: true });

  // Query: a filter error shows its caret under the offending word.
  await page.goto(`${url}#query`);
  await page.fill('#query-filter', 'dst port smtp');
  await page.waitForSelector('#query-error:not([hidden]) .caret', { timeout: WAIT_MS });
  const caret = await page.$eval('#query-error .caret', (el) => el.textContent);
  const source = await page.$eval('#query-error .source', (el) => el.textContent);
  check(caret === '         ^', `caret sits under column 10 (got '${caret}')`);
  check(source.slice(caret.indexOf('^')).startsWith('smtp'), 'caret points at the word smtp');
  await page.screenshot({ path: join(shots, 'console-query-error.png'), fullPage: true });
  // A valid filter runs and lists the spewing host's flows.
  await page.fill('#query-filter', `src host ${spewer} and dst port 445`);
  await page.waitForSelector('#query-error', { state: 'hidden', timeout: WAIT_MS });
  await page.click('#query-form button[type=submit]');
  await page.waitForSelector('#query-flows tbody tr', { timeout: WAIT_MS });
  const flowRows = await page.$$eval('#query-flows tbody tr', (rows) => rows.length);
  check(flowRows > 0, `the query lists flows of ${spewer} (${flowRows})`);
  await page.screenshot({ path: join(shots, 'console-query.png'), fullPage: true });

  check(errors.length === 0, `no script errors on the page (${errors.join('; ')})`);
  check(foreign.length === 0, `every request stays on ${origin} (${foreign.join(', ')})`);
} catch (err) {
  console.error(err.message);
  failed = true;
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
