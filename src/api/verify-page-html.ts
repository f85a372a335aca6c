import { phrasesFor, type PlainLanguage, type PlainSummary } from '../evidence/index.js';
import { escapeHtml, layout, megabytes } from './html-page.js';

/** The page's own words (the report's words are the evidence module's plain texts). */
const pageTexts = {
  en: {
    title: 'Verify a registered-delivery proof',
    intro:
      'Check a proof you were given: an evidence file (XML), an evidence export (JSON), a registered e-mail (.eml), a timestamp, or a signed document. Nothing you upload is stored.',
    file: 'Proof file',
    document: 'The document it is about (optional, to check that it matches)',
    drop: 'or drop the file here',
    submit: 'Verify',
    again: 'Verify another file',
    print: 'Print this report',
    downloadXml: 'Download the validation report (ETSI TS 119 102-2 XML)',
    downloadJson: 'Download the report (JSON)',
    fileName: 'File checked',
    limit: (max: string) => `At most ${max} per file.`,
    messages: {
      tooLarge: (max: string) => `The file is too large. The limit is ${max} per file.`,
      badUpload: () => 'The upload was incomplete or damaged. Please choose the file again.',
      noFile: () => 'Please choose a file to verify.',
      unknownKind: () =>
        'This file is not a proof this page can check (not evidence, an evidence export, a registered e-mail or a timestamp).',
      tooMany: () => 'Too many verifications from your address. Please wait a minute and try again.',
      internal: () => 'The verification could not be completed. Please try again later.',
    },
  },
  ja: {
    title: '書留配達の証明を検証する',
    intro:
      '受け取った証明を確認します。証拠ファイル（XML）、証拠のエクスポート（JSON）、書留電子メール（.eml）、タイムスタンプ、署名付き文書に対応しています。アップロードしたものは保存されません。',
    file: '証明ファイル',
    document: '対象の文書（任意。一致するかを確認します）',
    drop: 'またはここにファイルをドロップ',
    submit: '検証する',
    again: '別のファイルを検証する',
    print: 'この報告書を印刷',
    downloadXml: '検証報告書をダウンロード（ETSI TS 119 102-2 XML）',
    downloadJson: '報告書をダウンロード（JSON）',
    fileName: '確認したファイル',
    limit: (max: string) => `1ファイルあたり最大${max}です。`,
    messages: {
      tooLarge: (max: string) => `ファイルが大きすぎます。上限は1ファイルあたり${max}です。`,
      badUpload: () => 'アップロードが不完全か壊れています。もう一度ファイルを選んでください。',
      noFile: () => '検証するファイルを選んでください。',
      unknownKind: () =>
        'このファイルは、このページで確認できる証明（証拠、証拠のエクスポート、書留電子メール、タイムスタンプ）ではありません。',
      tooMany: () => 'このアドレスからの検証が多すぎます。1分ほど待ってから再試行してください。',
      internal: () => '検証を完了できませんでした。後でもう一度お試しください。',
    },
  },
} as const;

export type PageMessage = keyof (typeof pageTexts)['en']['messages'];

export function renderFormPage(lang: PlainLanguage, options: { maxBytes: number; message?: string }): string {
  const t = pageTexts[lang];
  return layout(
    lang,
    t.title,
    `<h1>${escapeHtml(t.title)}</h1>
<p>${escapeHtml(t.intro)}</p>
${options.message ? `<p class="notice" role="alert">${escapeHtml(options.message)}</p>` : ''}
${form(lang, options.maxBytes)}`,
  );
}

function form(lang: PlainLanguage, maxBytes: number): string {
  const t = pageTexts[lang];
  return `<form method="post" action="/verify?lang=${lang}" enctype="multipart/form-data" class="upload">
<div class="drop" data-drop>
<label for="file">${escapeHtml(t.file)}</label>
<input id="file" name="file" type="file" required>
<span class="hint">${escapeHtml(t.drop)}</span>
</div>
<label for="document">${escapeHtml(t.document)}</label>
<input id="document" name="document" type="file" multiple>
<p class="hint">${escapeHtml(t.limit(megabytes(maxBytes)))}</p>
<button type="submit">${escapeHtml(t.submit)}</button>
</form>`;
}

export function renderMessagePage(
  lang: PlainLanguage,
  message: PageMessage,
  options: { maxBytes?: number } = {},
): string {
  const t = pageTexts[lang];
  const text = t.messages[message](megabytes(options.maxBytes ?? 0));
  return layout(
    lang,
    t.title,
    `<h1>${escapeHtml(t.title)}</h1>
<p class="notice" role="alert" data-message="${message}">${escapeHtml(text)}</p>
${form(lang, options.maxBytes ?? 10 * 1024 * 1024)}`,
  );
}

export interface ResultPageExtras {
  readonly fileName?: string;
  /** The verifier's report in words, shown under "technical findings". */
  readonly technical: string;
  readonly reportXml?: string;
  readonly reportJson: string;
}

/** The verdict and its facts, printable as it is (print CSS hides the form and the buttons). */
export function renderResultPage(summary: PlainSummary, extras: ResultPageExtras): string {
  const lang = summary.lang;
  const t = pageTexts[lang];
  const p = phrasesFor(lang);
  const facts = factRows(summary);
  const timeline = summary.timeline?.length
    ? `<h2>${escapeHtml(p.timeline)}</h2>
<ol class="timeline">
${summary.timeline
  .map(
    (m) =>
      `<li class="verdict-${m.verdict}"><span class="badge">${escapeHtml(m.verdictWords)}</span> <strong>${escapeHtml(m.event?.words ?? m.kindWords)}</strong>${(m.timestampTime ?? m.eventTime) ? ` — ${timeHtml(m.timestampTime ?? m.eventTime!, lang)}` : ''}${m.issuer ? `<br><span class="sub">${escapeHtml(p.issuer)}: ${escapeHtml(m.issuer)}</span>` : ''}${m.reason ? `<br><span class="sub">${escapeHtml(m.reason)}</span>` : ''}</li>`,
  )
  .join('\n')}
</ol>`
    : '';
  const downloads = [
    extras.reportXml
      ? `<a class="button" download="validation-report.xml" href="data:application/xml;base64,${Buffer.from(extras.reportXml).toString('base64')}">${escapeHtml(t.downloadXml)}</a>`
      : '',
    `<a class="button" download="validation-report.json" href="data:application/json;base64,${Buffer.from(extras.reportJson).toString('base64')}">${escapeHtml(t.downloadJson)}</a>`,
    `<button type="button" class="button" data-print hidden>${escapeHtml(t.print)}</button>`,
  ].join('\n');
  return layout(
    lang,
    `${summary.verdictWords} — ${t.title}`,
    `<h1>${escapeHtml(t.title)}</h1>
<section class="verdict verdict-${summary.verdict}" role="status" aria-live="polite" data-verdict="${summary.verdict}">
<p class="verdict-word">${icon(summary.verdict)} ${escapeHtml(summary.verdictWords)}</p>
<p class="headline">${escapeHtml(summary.headline)}</p>
${summary.reason ? `<p class="reason">${escapeHtml(summary.reason)}</p>` : ''}
</section>
<table class="facts">
<tbody>
${extras.fileName ? row(t.fileName, escapeHtml(extras.fileName)) : ''}
${row(p.kind, escapeHtml(summary.kindWords))}
${facts}
</tbody>
</table>
${timeline}
<div class="actions no-print">
${downloads}
</div>
<details class="technical">
<summary>${escapeHtml(p.technical)}</summary>
<pre>${escapeHtml(extras.technical)}</pre>
</details>
<div class="no-print">
<h2>${escapeHtml(t.again)}</h2>
${form(lang, 10 * 1024 * 1024)}
</div>`,
  );
}

function factRows(s: PlainSummary): string {
  const p = phrasesFor(s.lang);
  const rows: string[] = [];
  if (s.event) {
    rows.push(
      row(
        p.event,
        `<strong>${escapeHtml(s.event.words)}</strong>${s.event.reasonCode ? `<br><span class="sub">${escapeHtml(p.reason)}: ${escapeHtml(s.event.reasonWords ?? '')} (${escapeHtml(s.event.reasonCode)})</span>` : ''}`,
      ),
    );
  }
  if (s.issuer) rows.push(row(p.issuer, escapeHtml(s.issuer)));
  if (s.sender) rows.push(row(p.sender, escapeHtml(s.sender)));
  if (s.recipient) rows.push(row(p.recipient, escapeHtml(s.recipient)));
  if (s.timestampTime) rows.push(row(p.timestamp, timeHtml(s.timestampTime, s.lang)));
  else if (s.eventTime)
    rows.push(
      row(
        p.time,
        `${timeHtml(s.eventTime, s.lang)}<br><span class="sub">${escapeHtml(p.noTimestamp)}</span>`,
      ),
    );
  if (s.messageId) rows.push(row(p.message, `<code>${escapeHtml(s.messageId)}</code>`));
  for (const d of s.documents) {
    const match =
      d.matches === undefined
        ? ''
        : `<br><span class="${d.matches ? 'match' : 'mismatch'}">${escapeHtml(d.matches ? p.matches : p.doesNotMatch)}</span>`;
    rows.push(
      row(
        p.documents,
        `${escapeHtml(d.id)} (${escapeHtml(d.contentType)})<br><code class="digest">SHA-256 ${escapeHtml(d.sha256)}</code>${match}`,
      ),
    );
  }
  if (s.signer) rows.push(row(p.signer, escapeHtml(s.signer)));
  if (s.qualified) {
    rows.push(row(p.qualifiedSeal, escapeHtml(s.qualified.seal ? p.yes : p.no)));
    rows.push(row(p.qualifiedTsa, escapeHtml(s.qualified.tsa ? p.yes : p.no)));
  } else if (s.event) rows.push(row(p.qualifiedSeal, escapeHtml(p.notChecked)));
  return rows.join('\n');
}

function row(label: string, valueHtml: string): string {
  return `<tr><th scope="row">${escapeHtml(label)}</th><td>${valueHtml}</td></tr>`;
}

/** UTC on the server; the page script adds the viewer's own time zone. */
function timeHtml(iso: string, lang: PlainLanguage): string {
  const date = new Date(iso);
  const utc = Number.isNaN(date.getTime())
    ? iso
    : `${date.toISOString().slice(0, 19).replace('T', ' ')} ${phrasesFor(lang).timeUtc}`;
  return `<time datetime="${escapeHtml(iso)}" data-local>${escapeHtml(utc)}</time>`;
}

function icon(verdict: PlainSummary['verdict']): string {
  // Shape as well as colour, for readers who cannot tell the colours apart.
  return `<span aria-hidden="true">${verdict === 'valid' ? '✔' : verdict === 'invalid' ? '✘' : '?'}</span>`;
}
