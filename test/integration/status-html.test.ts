/**
 * `status --html`, opened in a real headless Chromium (the build @sparticuz/chromium ships
 * inside its npm package, driven by puppeteer-core; nothing is downloaded at run time):
 * the page's numbers equal `status --json`'s (chart bars, runs, totals, failures, lease),
 * the page asks for nothing over the network, and its layout holds at desktop and phone
 * widths (no horizontal overflow, charts drawn at a readable size, bars inside their chart).
 * A full-page screenshot is kept in .tmp/artifacts/ (gitignored).
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import chromium from '@sparticuz/chromium';
import puppeteer from 'puppeteer-core';
import type { Browser, Page } from 'puppeteer-core';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { formatBytes } from '../../lambda/core/sizes.ts';
import type { BackupStatus } from '../../lambda/store/status.ts';
import { CloudinaryFake } from '../fakes/cloudinary-fake.ts';
import { startS3rver } from '../fakes/s3rver.ts';
import type { S3rverHandle } from '../fakes/s3rver.ts';
import { ROOT, parseReport, runCli, s3For } from '../helpers.ts';

const BUCKET = 'html';
const PREFIX = 'site';
const FROM = `s3://${BUCKET}/${PREFIX}`;
const ARTIFACTS = path.join(ROOT, '.tmp', 'artifacts');

/** Measures the layout in the page: overflow, chart sizes, bars inside their chart, tables shown. */
const MEASURE = `(() => {
  const box = (sel) => document.querySelector(sel)?.getBoundingClientRect();
  const charts = ['#chart-bytes', '#chart-assets'].map((sel) => {
    const svg = box(sel);
    const inside = [...document.querySelectorAll(sel + ' rect.bar, ' + sel + ' text')].every((r) => {
      const b = r.getBoundingClientRect();
      return svg !== undefined && b.left >= svg.left - 0.5 && b.right <= svg.right + 0.5 && b.top >= svg.top - 0.5 && b.bottom <= svg.bottom + 0.5;
    });
    return { width: svg ? svg.width : 0, height: svg ? svg.height : 0, inside };
  });
  const ticks = [...document.querySelectorAll('svg .tick')].map((t) => t.getBoundingClientRect().height);
  const dates = [...document.querySelectorAll('#runs td[data-field=startedAt]')].map((td) => td.getBoundingClientRect().height);
  return {
    scrollWidth: document.documentElement.scrollWidth, charts, runs: box('#runs')?.height ?? 0, totals: box('#totals')?.height ?? 0,
    smallestTick: Math.min(...ticks), tallestDateCell: Math.max(...dates),
  };
})()`;

describe('status --html in a headless browser', () => {
  let fake: CloudinaryFake;
  let s3rver: S3rverHandle;
  let s3: S3Client;
  let env: Record<string, string>;
  let work: string;
  let status: BackupStatus;
  let browser: Browser;
  let page: Page;
  const offsite: string[] = [];

  /** Keeps a copy of a real report as an earlier night's (the history a week of runs leaves). */
  const earlierNight = async (report: Record<string, unknown>, daysBack: number, copied: number, bytesCopied: number): Promise<void> => {
    const shift = (iso: unknown): string => new Date(Date.parse(String(iso)) - daysBack * 86_400_000).toISOString();
    const runId = `${shift(report.startedAt).replace(/[:.]/g, '-')}-${String(daysBack).padStart(6, '0')}`;
    const body = JSON.stringify({ ...report, runId, startedAt: shift(report.startedAt), finishedAt: shift(report.finishedAt), copied, bytesCopied, failed: 0, failures: [] });
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}/_reports/${runId}.json`, Body: body }));
  };

  before(async () => {
    fake = new CloudinaryFake({ cloudName: 'html-cloud', apiKey: '777777777777777', apiSecret: 'html-secret' });
    await fake.start();
    for (let i = 0; i < 6; i += 1) fake.addAsset({ publicId: `gallery/p${i}`, bytes: 20_000 + i * 7_000 });
    fake.addAsset({ publicId: 'clips/intro', resourceType: 'video', bytes: 300_000 });
    s3rver = await startS3rver([BUCKET]);
    s3 = s3For(s3rver.endpoint);
    env = { CLOUDINARY_URL: fake.cloudinaryUrl, ...s3rver.env };
    work = await mkdtemp(path.join(tmpdir(), 'cb-html-'));
    const first = await runCli(['backup', '--to', FROM, '--json'], env);
    assert.equal(first.code, 0, first.stderr);
    fake.addAsset({ publicId: 'gallery/<b>bold</b> & "quoted"', bytes: 9_000 });
    fake.failDownload('gallery/<b>bold</b> & "quoted"', 404, { persistent: true });
    fake.addAsset({ publicId: 'notes/a.txt', resourceType: 'raw', format: '', bytes: 1_500 });
    const second = await runCli(['backup', '--to', FROM, '--json'], env);
    assert.equal(second.code, 1, second.stderr);
    const firstReport = parseReport(first);
    await earlierNight(firstReport, 3, 40, 5_000_000);
    await earlierNight(firstReport, 2, 12, 800_000);
    await earlierNight(firstReport, 1, 0, 0);
    const lease = { holder: 'lambda:exec-1', runId: 'night-run', takenAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 600_000).toISOString() };
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}/_catalog/lease.json`, Body: JSON.stringify(lease) }));

    const json = await runCli(['status', '--from', FROM, '--json'], env);
    assert.equal(json.code, 0, json.stderr);
    status = JSON.parse(json.stdout) as BackupStatus;
    const html = await runCli(['status', '--from', FROM, '--html', path.join(work, 'status.html')], env);
    assert.equal(html.code, 0, html.stderr);

    browser = await puppeteer.launch({ executablePath: await chromium.executablePath(), args: chromium.args, headless: 'shell' });
    page = await browser.newPage();
    await page.setRequestInterception(true);
    page.on('request', (req) => {
      if (req.url().startsWith('file:')) return void req.continue();
      offsite.push(req.url());
      void req.abort();
    });
    await page.setViewport({ width: 1024, height: 768 });
    await page.goto(pathToFileURL(path.join(work, 'status.html')).href, { waitUntil: 'load' });
  });

  after(async () => {
    await browser?.close();
    await fake.stop();
    await s3rver.stop();
    await rm(work, { recursive: true, force: true });
  });

  test('the chart has one bar per night with the JSON\'s bytes and assets', async () => {
    assert.equal(status.nights.length, 4);
    const bars = (id: string) =>
      page.$$eval(`#${id} rect.bar`, (rs) => rs.map((r) => [r.getAttribute('data-date'), Number(r.getAttribute('data-value')), r.getBoundingClientRect().height]));
    const bytes = await bars('chart-bytes');
    const assets = await bars('chart-assets');
    assert.deepEqual(bytes.map(([d, v]) => [d, v]), status.nights.map((n) => [n.date, n.bytesCopied]));
    assert.deepEqual(assets.map(([d, v]) => [d, v]), status.nights.map((n) => [n.date, n.copied]));
    // Bar heights are proportional to the values (the tallest is the largest).
    const tallest = Math.max(...bytes.map(([, , h]) => Number(h)));
    const maxNight = status.nights.reduce((a, b) => (b.bytesCopied > a.bytesCopied ? b : a));
    assert.equal(bytes.find(([d]) => d === maxNight.date)?.[2], tallest);
    assert.equal(bytes.find(([, v]) => v === 0)?.[2], 0);
  });

  test('the runs, totals, waiting, lease and failures read as the JSON says', async () => {
    const runs = await page.$$eval('#runs tbody tr[data-run]', (trs) =>
      trs.map((tr) => ({
        runId: tr.getAttribute('data-run'),
        ...Object.fromEntries([...tr.querySelectorAll('td[data-field]')].map((td) => [td.getAttribute('data-field'), td.textContent])),
      })),
    );
    const want = [...status.runs].reverse();
    assert.deepEqual(runs.map((r) => r.runId), want.map((r) => r.runId));
    for (const [i, r] of want.entries()) {
      const shown = runs[i] as Record<string, string>;
      assert.equal(shown.copied, String(r.copied));
      assert.equal(shown.failed, String(r.failed));
      assert.equal(shown.listed, String(r.listed));
      assert.equal(shown.bytesCopied, formatBytes(r.bytesCopied));
    }
    const totals = await page.$$eval('#totals tr[data-type]', (trs) =>
      trs.map((tr) => [tr.getAttribute('data-type'), tr.querySelector('[data-field=assets]')?.textContent, tr.querySelector('[data-field=bytes]')?.getAttribute('data-value')]),
    );
    assert.deepEqual(totals, [
      ...status.totals.map((t) => [t.resourceType, String(t.assets), String(t.bytes)]),
      ['total', String(status.totalAssets), String(status.totalBytes)],
    ]);
    assert.equal(await page.$eval('#lease', (e) => e.getAttribute('data-held')), String(status.lease.held));
    assert.equal(status.lease.held, true);
    assert.equal(await page.$eval('#waiting', (e) => Number(e.getAttribute('data-assets'))), status.waiting.assets);
    const failures = await page.$$eval('#failures tbody td.id', (tds) => tds.map((td) => td.textContent));
    assert.deepEqual(failures, status.lastRun?.failures.map((f) => f.publicId));
    assert.deepEqual(failures, ['gallery/<b>bold</b> & "quoted"']);
    assert.equal(await page.$$eval('#failures b', (b) => b.length), 0, 'a public_id was interpreted as markup');
  });

  test('the page fetches nothing and its layout holds on a desktop and a phone', async () => {
    assert.deepEqual(offsite, []);
    await mkdir(ARTIFACTS, { recursive: true });
    for (const [width, height] of [[1024, 768], [390, 844]] as const) {
      await page.setViewport({ width, height });
      // Passed as source text: tsx names arrow functions with a helper the page does not have.
      const m = (await page.evaluate(MEASURE)) as {
        scrollWidth: number; charts: Array<{ width: number; height: number; inside: boolean }>; runs: number; totals: number; smallestTick: number; tallestDateCell: number;
      };
      assert.ok(m.scrollWidth <= width, `page overflows ${width}px: ${m.scrollWidth}`);
      for (const c of m.charts) {
        assert.ok(c.width >= Math.min(600, width - 60) && c.height >= 60, `chart too small at ${width}px: ${JSON.stringify(c)}`);
        assert.ok(c.inside, `a bar or label is drawn outside its chart at ${width}px`);
      }
      assert.ok(m.runs > 0 && m.totals > 0, 'a table is not shown');
      assert.ok(m.smallestTick >= 8, `chart labels are ${m.smallestTick.toFixed(1)} px high at ${width}px: unreadable`);
      assert.ok(m.tallestDateCell < 40, `a run's start time wraps over lines at ${width}px (${m.tallestDateCell} px)`);
      await page.screenshot({ path: path.join(ARTIFACTS, `status-html-${width}.png`), fullPage: true });
    }
  });
});
