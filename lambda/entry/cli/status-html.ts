import { formatBytes } from '../../core/sizes.ts';
import type { BackupStatus, NightRow } from '../../store/status.ts';
import { durationText, waitingText } from './status-words.ts';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** A table cell carrying its exact value, so the page can be checked against `--json`. */
const td = (field: string, value: string | number, shown: string = String(value), num = typeof value === 'number'): string =>
  `<td data-field="${field}" data-value="${esc(String(value))}"${num ? ' class="num"' : ''}>${esc(shown)}</td>`;

const W = 720;
const H = 180;
const PAD = { left: 12, right: 12, top: 12, bottom: 28 };

/**
 * One bar chart as inline SVG (no script, no network): a bar per night scaled to the
 * largest value, the value in each bar's tooltip and data attribute.
 */
const barChart = (id: string, title: string, nights: readonly NightRow[], value: (n: NightRow) => number, label: (v: number) => string, color: string): string => {
  const max = Math.max(1, ...nights.map(value));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(1, nights.length);
  const barW = Math.max(2, Math.min(48, slot * 0.7));
  const bars = nights
    .map((n, i) => {
      const v = value(n);
      const h = (v / max) * plotH;
      const x = PAD.left + i * slot + (slot - barW) / 2;
      const y = PAD.top + plotH - h;
      const tick = nights.length <= 16 || i % Math.ceil(nights.length / 16) === 0
        ? `<text x="${(x + barW / 2).toFixed(1)}" y="${H - 10}" text-anchor="middle" class="tick">${esc(n.date.slice(5))}</text>`
        : '';
      return `<rect class="bar" data-date="${esc(n.date)}" data-value="${v}" x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="${color}"><title>${esc(n.date)}: ${esc(label(v))}</title></rect>${tick}`;
    })
    .join('');
  const axis = `<line x1="${PAD.left}" y1="${PAD.top + plotH}" x2="${W - PAD.right}" y2="${PAD.top + plotH}" class="axis"/>`;
  return `<figure><figcaption>${esc(title)} <span class="meta">(highest: ${esc(label(max))})</span></figcaption><svg id="${id}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">${axis}${bars}</svg></figure>`;
};

const runsTable = (s: BackupStatus): string => {
  const rows = [...s.runs]
    .reverse()
    .map(
      (r) =>
        `<tr data-run="${esc(r.runId)}">${td('startedAt', r.startedAt, r.startedAt.slice(0, 16).replace('T', ' '), false)}${td('durationSeconds', r.durationSeconds, durationText(r.durationSeconds))}` +
        `${td('listed', r.listed)}${td('copied', r.copied)}${td('bytesCopied', r.bytesCopied, formatBytes(r.bytesCopied))}${td('failed', r.failed)}${td('deferred', r.deferred)}` +
        `${td('creditsBefore', r.creditsBefore ?? '', r.creditsBefore === null ? '-' : r.creditsBefore.toFixed(2), true)}${td('creditsAfter', r.creditsAfter ?? '', r.creditsAfter === null ? '-' : r.creditsAfter.toFixed(2), true)}` +
        `<td>${r.listingComplete ? 'complete' : '<strong>incomplete</strong>'}${r.cancelled ? ', stopped' : ''}${r.stoppedAtDeadline ? ', deadline' : ''}</td></tr>`,
    )
    .join('');
  return `<table id="runs"><thead><tr><th>Started (UTC)</th><th>Took</th><th>Listed</th><th>Copied</th><th>Bytes</th><th>Failed</th><th>Deferred</th><th>Credits before</th><th>after</th><th>Listing</th></tr></thead><tbody>${rows || '<tr><td colspan="10">No run reports yet.</td></tr>'}</tbody></table>`;
};

const totalsTable = (s: BackupStatus): string => {
  const rows = s.totals
    .map((t) => `<tr data-type="${esc(t.resourceType)}"><th>${esc(t.resourceType)}</th>${td('assets', t.assets)}${td('bytes', t.bytes, formatBytes(t.bytes))}${td('stale', t.stale)}${td('deleted', t.deleted)}</tr>`)
    .join('');
  return `<table id="totals"><thead><tr><th>Type</th><th>Assets</th><th>Size</th><th>Not yet newest</th><th>Deleted in Cloudinary (kept)</th></tr></thead><tbody>${rows}</tbody>` +
    `<tfoot><tr data-type="total"><th>total</th>${td('assets', s.totalAssets)}${td('bytes', s.totalBytes, formatBytes(s.totalBytes))}<td></td><td></td></tr></tfoot></table>`;
};

const failuresTable = (s: BackupStatus): string => {
  if (!s.lastRun || s.lastRun.failed === 0) return '<p id="failures" data-count="0">The last run had no failures.</p>';
  const rows = s.lastRun.failures
    .slice(0, 200)
    .map((f) => `<tr><td>${esc(`${f.resourceType}/${f.type}`)}</td><td class="id">${esc(f.publicId)}</td><td class="wrap">${esc(f.error)}</td></tr>`)
    .join('');
  const more = s.lastRun.failed > 200 ? `<p>... and ${s.lastRun.failed - 200} more (see status --json).</p>` : '';
  return `<table id="failures" data-count="${s.lastRun.failed}"><thead><tr><th>Kind</th><th>public_id</th><th>Why</th></tr></thead><tbody>${rows}</tbody></table>${more}`;
};

const CSS = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;padding:16px 24px;max-width:1000px;color:#1d2430;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}
.meta{color:#5b6472;margin:0}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.card{border:1px solid #d8dde6;border-radius:8px;padding:8px 12px;min-width:150px;flex:1}
.card b{display:block;font-size:18px}
.held{border-color:#d97706;background:#fff7ed}
figure{margin:8px 0 16px}figcaption{font-weight:600;margin-bottom:4px}
svg{width:100%;height:auto;display:block;border:1px solid #eef0f4;border-radius:6px}
.tick{font-size:11px;fill:#5b6472}.axis{stroke:#9aa3b2}
table{border-collapse:collapse;width:100%;margin-bottom:8px}
th,td{border-bottom:1px solid #e6e9ef;padding:4px 8px;text-align:left;vertical-align:top}
td{white-space:nowrap}td.num{text-align:right;font-variant-numeric:tabular-nums}
td.wrap{white-space:normal}
td.id{word-break:break-all;white-space:normal}
@media (max-width:600px){body{padding:12px}.tick{font-size:22px}}
figcaption .meta{font-weight:400;color:#5b6472}
.scroll{overflow-x:auto}
`;

/** The self-contained page of `status --html`: inline CSS and SVG, no script, nothing fetched. */
export const statusHtml = (s: BackupStatus): string => {
  const lease = s.lease.held
    ? `<div class="card held" id="lease" data-held="true">A run holds the lease<b>${esc(s.lease.runId ?? '?')}</b>until ${esc(s.lease.expiresAt ?? '?')}</div>`
    : '<div class="card" id="lease" data-held="false">Lease<b>free</b>no run is going on</div>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Cloudinary backup status: ${esc(s.target)}</title><style>${CSS}</style></head>
<body>
<h1>Cloudinary backup: ${esc(s.target)}</h1>
<p class="meta">Generated ${esc(s.generatedAt)}. ${s.catalog ? `Catalog of run ${esc(s.catalog.runId)}, completed ${esc(s.catalog.completedAt)}.` : 'No completed run yet.'}</p>
<div class="cards">
<div class="card" id="total-assets" data-value="${s.totalAssets}">Assets backed up<b>${s.totalAssets}</b>${esc(formatBytes(s.totalBytes))}</div>
<div class="card" id="waiting" data-assets="${s.waiting.assets}" data-bytes="${s.waiting.bytes}">Waiting for a later night<b>${s.waiting.assets}</b>${esc(waitingText(s.waiting).replace(/^[^:]*: ?/, ''))}</div>
${lease}
</div>
<h2>Per night</h2>
${barChart('chart-bytes', 'Bytes copied per night', s.nights, (n) => n.bytesCopied, formatBytes, '#2563eb')}
${barChart('chart-assets', 'Assets copied per night', s.nights, (n) => n.copied, (v) => `${v} assets`, '#059669')}
<h2>Last runs</h2>
<div class="scroll">${runsTable(s)}</div>
<h2>Backed up, by resource type</h2>
<div class="scroll">${totalsTable(s)}</div>
<h2>Failures of the last run${s.lastRun ? ` (${s.lastRun.failed})` : ''}</h2>
<div class="scroll">${failuresTable(s)}</div>
</body></html>
`;
};
