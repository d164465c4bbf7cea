import { expect } from 'chai';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import type { Gateway } from '../../server/compose.js';
import { operationIds } from '../helpers/contract.js';
import { startEmbedded } from '../helpers/embedded.js';

/** Screenshots of each page, kept as the run's artifacts (reports/ is not committed). */
const SHOTS = 'reports/screenshots';

/**
 * The docs portal in a real browser (Debian's Chromium, driven by playwright-core): Swagger UI's
 * Try-it-out submits an evaluation, ReDoc renders every operation, and no request leaves the
 * gateway.
 */
describe('the docs portal in Chromium', function () {
  this.timeout(120_000);
  let gateway: Gateway;
  let base: string;
  let browser: Browser;
  before(async () => {
    ({ gateway, base } = await startEmbedded());
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      // As the machine's notes say: no sandbox as root, and none of Chromium's own traffic.
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  after(async () => {
    await browser?.close();
    await gateway?.close();
  });

  /** A page that records every request it makes and every answer that failed. */
  async function open(path: string): Promise<{ page: Page; requests: string[]; failed: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const requests: string[] = [];
    const failed: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('requestfailed', (r) => failed.push(`${r.url()} (${r.failure()?.errorText})`));
    page.on('response', (r) => {
      if (r.status() >= 400) failed.push(`${r.url()} (${r.status()})`);
    });
    await page.goto(base + path);
    return { page, requests, failed };
  }

  const offsite = (requests: string[]): string[] =>
    requests.filter((u) => !u.startsWith(base) && !u.startsWith('data:') && !u.startsWith('blob:'));

  it('/docs: Try-it-out submits the example evaluation and shows 202', async () => {
    const { page, requests, failed } = await open('/docs');
    const op = page.locator('#operations-evaluations-submitEvaluation');
    await op.locator('.opblock-summary').click();
    await op.locator('button.try-out__btn').click();
    await op.locator('button.execute').click();
    const status = op.locator('.live-responses-table tr.response .response-col_status').first();
    await status.waitFor();
    expect((await status.innerText()).trim()).to.match(/^202/);
    const body = await op.locator('.live-responses-table .microlight').first().innerText();
    const { eval_id } = JSON.parse(body) as { eval_id: string };
    const read = await fetch(`${base}/api/eval-status/${eval_id}`);
    expect(read.status).to.equal(200);
    await page.screenshot({ path: `${SHOTS}/docs-try-it-out.png`, fullPage: false });
    expect(offsite(requests)).to.deep.equal([]);
    expect(failed).to.deep.equal([]);
    await page.close();
  });

  it('serves a favicon, as an icon and as SVG', async () => {
    const ico = await fetch(`${base}/favicon.ico`);
    expect(ico.headers.get('content-type')).to.equal('image/x-icon');
    expect([...new Uint8Array(await ico.arrayBuffer()).slice(0, 4)]).to.deep.equal([0, 0, 1, 0]);
    const svg = await fetch(`${base}/favicon.svg`);
    expect(svg.headers.get('content-type')).to.match(/^image\/svg\+xml/);
  });

  it('/redoc renders every operation of the spec, from the gateway alone', async () => {
    const { page, requests, failed } = await open('/redoc');
    await page.locator('[data-section-id*="operation/"]').first().waitFor();
    const sections = await page
      .locator('[data-section-id*="operation/"]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-section-id') ?? ''));
    const shown = new Set(sections.map((s) => s.split('operation/')[1]));
    expect(operationIds.filter((id) => !shown.has(id))).to.deep.equal([]);
    await page.screenshot({ path: `${SHOTS}/redoc.png`, fullPage: false });
    expect(offsite(requests)).to.deep.equal([]);
    expect(failed).to.deep.equal([]);
    await page.close();
  });
});
