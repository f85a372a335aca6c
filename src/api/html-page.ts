import type { Request, Response } from 'express';
import { languageFromAcceptLanguage, plainLanguages, type PlainLanguage } from '../evidence/index.js';

/**
 * Sends a server-rendered page. Our own script and style only, nothing from elsewhere; the page cannot be
 * framed (threat: clickjacking a verdict or a sign-in) and forms post only here; reports download as data:
 * URLs. Never cached (verdicts and sessions are a person's own).
 */
export function sendPage(res: Response, status: number, html: string): void {
  res
    .status(status)
    .type('text/html; charset=utf-8')
    .set(
      'Content-Security-Policy',
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    )
    .set('X-Content-Type-Options', 'nosniff')
    .set('Referrer-Policy', 'no-referrer')
    .set('Cache-Control', 'no-store')
    .send(html);
}

/** The page's language: `?lang=` when it is one of ours, else the browser's Accept-Language. */
export function pageLanguage(req: Request): PlainLanguage {
  const asked = typeof req.query.lang === 'string' ? req.query.lang : undefined;
  if (asked && (plainLanguages as readonly string[]).includes(asked)) return asked as PlainLanguage;
  return languageFromAcceptLanguage(req.get('accept-language'));
}

/** The frame every server-rendered page shares: one stylesheet and one script of our own, nothing from elsewhere. */
/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

export function megabytes(bytes: number): string {
  return `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB`;
}

export function layout(
  lang: PlainLanguage,
  title: string,
  body: string,
  options: { switchTo?: string; header?: string } = {},
): string {
  const other: PlainLanguage = lang === 'en' ? 'ja' : 'en';
  const switchTo = options.switchTo ?? '/verify';
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/verify/page.css">
<script src="/verify/page.js" defer></script>
</head>
<body>
<header class="top"><span class="brand">qerds-ap</span>
<nav aria-label="${lang === 'ja' ? '言語' : 'Language'}">${options.header ?? ''}<a href="${escapeHtml(switchTo)}${switchTo.includes('?') ? '&amp;' : '?'}lang=${other}" lang="${other}" hreflang="${other}">${other === 'ja' ? '日本語' : 'English'}</a></nav>
</header>
<main>
${body}
</main>
</body>
</html>`;
}

export const pageStyle = `
:root { color-scheme: light; --fg: #1a1a1a; --muted: #4a4a4a; --ok: #0b6b2e; --bad: #a4161a; --unsure: #7a4d00; --line: #c8c8c8; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.6 system-ui, -apple-system, "Segoe UI", "Hiragino Sans", "Noto Sans JP", "Yu Gothic", sans-serif; color: var(--fg); background: #fff; }
.top { display: flex; justify-content: space-between; padding: .6rem 1.2rem; border-bottom: 1px solid var(--line); }
.brand { font-weight: 700; }
main { max-width: 52rem; margin: 0 auto; padding: 1rem 1.2rem 3rem; }
h1 { font-size: 1.6rem; margin: .6rem 0 1rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; }
a { color: #0645ad; }
a:focus, button:focus, input:focus { outline: 3px solid #1d4ed8; outline-offset: 2px; }
.upload { display: grid; gap: .6rem; max-width: 36rem; }
.drop { border: 2px dashed var(--line); border-radius: 8px; padding: 1rem; display: grid; gap: .4rem; }
.drop.over { border-color: #1d4ed8; background: #eef3ff; }
.hint, .sub { color: var(--muted); font-size: .9rem; }
button, .button { font: inherit; padding: .5rem 1rem; border: 1px solid #1d4ed8; border-radius: 6px; background: #1d4ed8; color: #fff; cursor: pointer; text-decoration: none; display: inline-block; }
.actions .button { background: #fff; color: #1d4ed8; margin: .2rem .4rem .2rem 0; }
.notice { border-left: 4px solid var(--unsure); padding: .6rem 1rem; background: #fff7e6; }
.verdict { border-radius: 8px; padding: 1rem 1.2rem; border: 2px solid; margin-bottom: 1.2rem; }
.verdict p { margin: .2rem 0; }
.verdict-word { font-size: 1.5rem; font-weight: 700; }
.verdict-valid { border-color: var(--ok); background: #eaf6ee; color: var(--ok); }
.verdict-invalid { border-color: var(--bad); background: #fbeaea; color: var(--bad); }
.verdict-undecided { border-color: var(--unsure); background: #fff7e6; color: var(--unsure); }
.verdict .headline, .verdict .reason { color: var(--fg); }
.facts { border-collapse: collapse; width: 100%; }
.facts th, .facts td { text-align: left; vertical-align: top; padding: .5rem .6rem; border-bottom: 1px solid var(--line); }
.facts th { width: 34%; font-weight: 600; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .85rem; word-break: break-all; }
.match { color: var(--ok); font-weight: 600; }
.mismatch { color: var(--bad); font-weight: 600; }
.timeline { padding-left: 1.4rem; }
.timeline li { margin-bottom: .6rem; }
.timeline .badge { font-weight: 700; }
.timeline li { color: var(--fg); }
.timeline li.verdict-valid .badge { color: var(--ok); }
.timeline li.verdict-invalid .badge { color: var(--bad); }
.timeline li.verdict-undecided .badge { color: var(--unsure); }
.technical pre { white-space: pre-wrap; word-break: break-all; background: #f6f6f6; padding: .8rem; font-size: .8rem; }
.filters { display: flex; flex-wrap: wrap; gap: .6rem 1rem; align-items: end; margin-bottom: 1rem; }
.filters label { display: grid; font-size: .9rem; }
.list { border-collapse: collapse; width: 100%; }
.list th, .list td { text-align: left; padding: .5rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
.state { font-weight: 600; }
.state-delivered, .state-consigned { color: var(--ok); }
.state-failed, .state-rejected { color: var(--bad); }
form.inline { display: inline; }
.nowrap { white-space: nowrap; }
form.answer { margin: 1rem 0; }
button.secondary { background: #fff; color: var(--bad); border-color: var(--bad); }
button.link { background: none; border: 0; color: #0645ad; text-decoration: underline; padding: 0; }
@media print { .no-print, .top nav, script { display: none !important; } main { max-width: none; } .technical { display: block; } .technical[open] pre, .technical pre { display: block; } }
`;

/**
 * Drag and drop onto the form, the print button, and times in the viewer's own time zone. The page works
 * without it: the form posts, and times are shown in UTC.
 */
export const pageScript = `
(function () {
  document.querySelectorAll('time[data-local]').forEach(function (el) {
    var d = new Date(el.getAttribute('datetime'));
    if (isNaN(d.getTime())) return;
    var lang = document.documentElement.lang === 'ja' ? 'ja-JP' : 'en-GB';
    var local = new Intl.DateTimeFormat(lang, { dateStyle: 'long', timeStyle: 'long' }).format(d);
    el.textContent = local + ' (' + el.textContent + ')';
  });
  document.querySelectorAll('[data-print]').forEach(function (b) {
    b.hidden = false;
    b.addEventListener('click', function () { window.print(); });
  });
  document.querySelectorAll('[data-drop]').forEach(function (zone) {
    var input = zone.querySelector('input[type=file]');
    var form = zone.closest('form');
    ['dragenter', 'dragover'].forEach(function (t) { zone.addEventListener(t, function (e) { e.preventDefault(); zone.classList.add('over'); }); });
    ['dragleave', 'drop'].forEach(function (t) { zone.addEventListener(t, function () { zone.classList.remove('over'); }); });
    zone.addEventListener('drop', function (e) {
      e.preventDefault();
      if (!e.dataTransfer || !e.dataTransfer.files.length) return;
      input.files = e.dataTransfer.files;
      form.requestSubmit();
    });
  });
})();
`;
