/**
 * The dashboard in a real headless browser (Debian's chromium, driven by puppeteer-core; nothing is
 * downloaded): sign-in, every chunkserver of the test cluster shown alive, a chunkserver killed
 * with kill -9 shown dead within seconds, and the file browser uploading, downloading, making a
 * folder and deleting, on a desktop-sized and a phone-sized screen, without a console error or
 * warning. Screenshots go to the test's temp dir (copied to FST_KEEP_SCREENSHOTS when set).
 */
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curl, GatewayCluster, KEY } from '../helpers/gateway.js';
import { waitFor } from '../helpers/probes.js';

const CHROMIUM = process.env.FST_CHROMIUM ?? '/usr/bin/chromium';

describe('fst-gateway dashboard in a browser', () => {
  let gc: GatewayCluster;
  let browser: Browser;
  let page: Page;
  let shots: string;
  const problems: string[] = [];

  beforeAll(async () => {
    gc = await GatewayCluster.start();
    shots = join(gc.dir, 'screenshots');
    await mkdir(shots);
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warn') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e instanceof Error ? e.message : String(e)}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
    await page.setViewport({ width: 1280, height: 800 });
  });
  afterAll(async () => {
    await browser?.close();
    if (process.env.FST_KEEP_SCREENSHOTS && shots) await cp(shots, process.env.FST_KEEP_SCREENSHOTS, { recursive: true }).catch(() => undefined);
    await gc?.stop();
  });

  const state = (address: string): Promise<string | null> =>
    page.$eval(`tr[data-server="${address}"]`, (el) => el.getAttribute('data-state')).catch(() => null);

  it('signs in and shows every chunkserver alive', async () => {
    await page.goto(`${gc.url}/`, { waitUntil: 'networkidle0' });
    await page.waitForSelector('#login-form', { visible: true });
    await page.type('#login-access-key', KEY.id);
    await page.type('#login-secret', KEY.secret);
    await page.keyboard.press('Enter');
    await page.waitForSelector('tr[data-server]', { timeout: 30_000 });
    const addresses = gc.cluster.chunkservers.map((c) => c.process.address);
    await waitFor('every chunkserver shown alive', async () => {
      for (const a of addresses) if ((await state(a)) !== 'alive') return false;
      return true;
    });
    expect(await page.$$eval('tr[data-server]', (rows) => rows.length)).toBe(addresses.length);
    expect(await page.$eval('#identity-key', (el) => el.textContent)).toContain(KEY.id);
    await page.screenshot({ path: join(shots, 'overview-desktop.png'), fullPage: true });
  });

  it('shows a killed chunkserver dead within seconds', async () => {
    const victim = gc.cluster.chunkservers[2]!;
    const killedAt = Date.now();
    await victim.process.kill();
    await waitFor('the killed chunkserver shown dead', async () => (await state(victim.process.address)) === 'dead', 30_000, 200);
    const seconds = (Date.now() - killedAt) / 1000;
    process.stdout.write(`dashboard showed the killed chunkserver dead after ${seconds.toFixed(1)} s (master dead-after 3 s)\n`);
    expect(await page.$eval(`tr[data-server="${victim.process.address}"] .badge`, (el) => el.textContent?.toLowerCase())).toContain('dead');
    await page.screenshot({ path: join(shots, 'overview-dead-server.png'), fullPage: true });
  });

  it('uploads, downloads, makes a folder and deletes through the file browser', async () => {
    await page.click('#tab-files');
    await page.waitForSelector('#upload-input');
    const content = `uploaded from the browser at ${new Date().toISOString()}\n`.repeat(2000);
    const src = join(gc.dir, 'from-browser.txt');
    await writeFile(src, content);
    const input = await page.$('#upload-input');
    await (input as unknown as { uploadFile(p: string): Promise<void> }).uploadFile(src);
    await page.waitForSelector('[data-upload="from-browser.txt"][data-status="done"]', { timeout: 60_000 });
    await page.waitForSelector('tr[data-name="from-browser.txt"][data-type="file"]');
    const back = await curl(['-u', `${KEY.id}:${KEY.secret}`, `${gc.url}/files/from-browser.txt`]);
    expect(back.body).toBe(content);

    // Download through the link, into a directory the browser is told to use.
    const downloads = join(gc.dir, 'downloads');
    await mkdir(downloads);
    const cdp = await page.createCDPSession();
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
    await page.click('tr[data-name="from-browser.txt"] a[download]');
    await waitFor('the download to finish', async () => (await readdir(downloads)).includes('from-browser.txt'));
    await waitFor('the downloaded file to be whole', async () => (await readFile(join(downloads, 'from-browser.txt'), 'utf8')) === content);

    page.once('dialog', (d) => void d.accept('made-in-browser'));
    await page.click('#new-folder');
    await page.waitForSelector('tr[data-name="made-in-browser"][data-type="dir"]');
    expect((await curl(['-u', `${KEY.id}:${KEY.secret}`, `${gc.url}/files/made-in-browser/?list`])).status).toBe(200);

    page.once('dialog', (d) => void d.accept());
    await page.click('tr[data-name="from-browser.txt"] button[aria-label^="Delete"]');
    await waitFor('the deleted file to leave the listing', async () => (await page.$('tr[data-name="from-browser.txt"]')) === null);
    expect((await curl(['-u', `${KEY.id}:${KEY.secret}`, `${gc.url}/files/from-browser.txt`])).status).toBe(404);
    await page.screenshot({ path: join(shots, 'files-desktop.png'), fullPage: true });
  });

  it('fits a phone-sized screen, and logged no console error or warning', async () => {
    await page.setViewport({ width: 375, height: 740, isMobile: true, hasTouch: true });
    await page.click('#tab-overview');
    await page.waitForSelector('tr[data-server]');
    const width = await page.evaluate('document.documentElement.scrollWidth');
    expect(width).toBeLessThanOrEqual(375);
    await page.screenshot({ path: join(shots, 'overview-phone.png'), fullPage: true });
    await page.click('#tab-files');
    await page.waitForSelector('tr[data-name="made-in-browser"]');
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    await page.screenshot({ path: join(shots, 'files-phone.png'), fullPage: true });
    expect(problems).toEqual([]);
  });
});
