import { eventInWords, phrasesFor, type PlainLanguage } from '../evidence/index.js';
import { formatParticipantId, type EvidenceEvent, type MessageState } from '../core/index.js';
import type { EvidenceRecord, StoredMessage } from '../store/types.js';
import { escapeHtml, layout } from './html-page.js';

const texts = {
  en: {
    title: 'Sent messages',
    login: 'Sign in',
    loginIntro: "Sign in with your organisation's API key to see the messages it sent and their evidence.",
    apiKey: 'API key',
    loginFailed: 'The API key is not valid.',
    tooMany: 'Too many attempts. Please wait a few minutes.',
    signOut: 'Sign out',
    signedInAs: 'Signed in as',
    filter: 'Filter',
    state: 'State',
    any: 'any',
    recipient: 'Recipient',
    reference: 'Your reference',
    since: 'From',
    until: 'To',
    submitted: 'Submitted (UTC)',
    next: 'Next page',
    none: 'No messages match.',
    message: 'Message',
    evidence: 'Evidence',
    event: 'Event',
    time: 'Time (UTC)',
    issuedBy: 'Issued by',
    download: 'Download',
    verify: 'Verify',
    back: 'All sent messages',
    parts: 'Documents',
    notFound: 'No such message.',
    states: {
      submitted: 'accepted, waiting to be relayed',
      relaying: 'being relayed',
      relayed: "at the recipient's provider",
      received: 'received',
      consigned: "in the recipient's inbox",
      delivered: 'taken by the recipient',
      rejected: 'refused',
      failed: 'failed',
      'awaiting-acceptance': 'waiting for the recipient to accept',
      accepted: 'accepted by the recipient',
    } satisfies Record<MessageState, string>,
  },
  ja: {
    title: '送信済みメッセージ',
    login: 'サインイン',
    loginIntro: '組織のAPIキーでサインインすると、送信したメッセージとその証拠を確認できます。',
    apiKey: 'APIキー',
    loginFailed: 'APIキーが正しくありません。',
    tooMany: '試行回数が多すぎます。数分待ってから再試行してください。',
    signOut: 'サインアウト',
    signedInAs: 'サインイン中',
    filter: '絞り込む',
    state: '状態',
    any: 'すべて',
    recipient: '受信者',
    reference: '参照番号',
    since: '開始日',
    until: '終了日',
    submitted: '送信日時（UTC）',
    next: '次のページ',
    none: '該当するメッセージはありません。',
    message: 'メッセージ',
    evidence: '証拠',
    event: '出来事',
    time: '日時（UTC）',
    issuedBy: '発行者',
    download: 'ダウンロード',
    verify: '検証',
    back: '送信済みメッセージ一覧',
    parts: '文書',
    notFound: 'そのメッセージはありません。',
    states: {
      submitted: '受付済み・中継待ち',
      relaying: '中継中',
      relayed: '受信者側の事業者に到着',
      received: '受信済み',
      consigned: '受信者の受信箱に到着',
      delivered: '受信者が受け取り済み',
      rejected: '拒否',
      failed: '失敗',
      'awaiting-acceptance': '受信者の受諾待ち',
      accepted: '受信者が受諾',
    } satisfies Record<MessageState, string>,
  },
} as const;

export type SenderViewTexts = (typeof texts)['en'];
export const senderTexts = (lang: PlainLanguage): SenderViewTexts => texts[lang] as SenderViewTexts;

const utc = (d: Date) => `${d.toISOString().slice(0, 19).replace('T', ' ')}`;

function frame(lang: PlainLanguage, title: string, body: string, who?: string, switchTo = '/sender'): string {
  const t = senderTexts(lang);
  const header = who
    ? `<form method="post" action="/sender/logout" class="inline"><span class="sub">${escapeHtml(t.signedInAs)} ${escapeHtml(who)}</span> <button type="submit" class="link">${escapeHtml(t.signOut)}</button></form> `
    : '';
  return layout(lang, title, body, { switchTo, header });
}

export function renderLoginPage(lang: PlainLanguage, problem?: 'loginFailed' | 'tooMany'): string {
  const t = senderTexts(lang);
  return frame(
    lang,
    t.login,
    `<h1>${escapeHtml(t.login)}</h1>
<p>${escapeHtml(t.loginIntro)}</p>
${problem ? `<p class="notice" role="alert" data-message="${problem}">${escapeHtml(t[problem])}</p>` : ''}
<form method="post" action="/sender/login?lang=${lang}" class="upload">
<label for="apiKey">${escapeHtml(t.apiKey)}</label>
<input id="apiKey" name="apiKey" type="password" autocomplete="current-password" required>
<button type="submit">${escapeHtml(t.login)}</button>
</form>`,
    undefined,
    '/sender/login',
  );
}

export interface ListFilter {
  readonly state?: MessageState;
  readonly recipient?: string;
  readonly reference?: string;
  readonly since?: string;
  readonly until?: string;
}

export function renderSentList(
  lang: PlainLanguage,
  who: string,
  messages: readonly StoredMessage[],
  filter: ListFilter,
  nextHref?: string,
): string {
  const t = senderTexts(lang);
  const option = (value: string, label: string) =>
    `<option value="${escapeHtml(value)}"${filter.state === value ? ' selected' : ''}>${escapeHtml(label)}</option>`;
  const rows = messages
    .map(
      (m) => `<tr data-message="${escapeHtml(m.id)}">
<td><a href="/sender/messages/${encodeURIComponent(m.id)}?lang=${lang}">${escapeHtml(m.subject ?? m.id)}</a>${referenceOf(m) ? `<br><span class="sub">${escapeHtml(referenceOf(m)!)}</span>` : ''}</td>
<td>${escapeHtml(formatParticipantId(m.recipient))}</td>
<td><span class="state state-${m.state}">${escapeHtml(t.states[m.state])}</span></td>
<td><time datetime="${m.submittedAt.toISOString()}">${utc(m.submittedAt)}</time></td>
</tr>`,
    )
    .join('\n');
  return frame(
    lang,
    t.title,
    `<h1>${escapeHtml(t.title)}</h1>
<form method="get" action="/sender" class="filters" role="search">
<input type="hidden" name="lang" value="${lang}">
<label>${escapeHtml(t.state)} <select name="state">${option('', t.any)}${Object.entries(t.states)
      .map(([value, label]) => option(value, label))
      .join('')}</select></label>
<label>${escapeHtml(t.recipient)} <input name="recipient" value="${escapeHtml(filter.recipient ?? '')}" placeholder="0188:…"></label>
<label>${escapeHtml(t.reference)} <input name="reference" value="${escapeHtml(filter.reference ?? '')}"></label>
<label>${escapeHtml(t.since)} <input type="date" name="since" value="${escapeHtml(filter.since ?? '')}"></label>
<label>${escapeHtml(t.until)} <input type="date" name="until" value="${escapeHtml(filter.until ?? '')}"></label>
<button type="submit">${escapeHtml(t.filter)}</button>
</form>
${
  messages.length === 0
    ? `<p data-empty>${escapeHtml(t.none)}</p>`
    : `<table class="list">
<thead><tr><th scope="col">${escapeHtml(t.message)}</th><th scope="col">${escapeHtml(t.recipient)}</th><th scope="col">${escapeHtml(t.state)}</th><th scope="col">${escapeHtml(t.submitted)}</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>`
}
${nextHref ? `<p><a href="${escapeHtml(nextHref)}" rel="next">${escapeHtml(t.next)}</a></p>` : ''}`,
    who,
  );
}

export function renderMessagePage(
  lang: PlainLanguage,
  who: string,
  message: StoredMessage,
  evidence: readonly EvidenceRecord[],
): string {
  const t = senderTexts(lang);
  const p = phrasesFor(lang);
  const items = evidence
    .map(
      (e) => `<li data-evidence="${escapeHtml(e.id)}">
<strong>${escapeHtml(eventInWords(e.event as EvidenceEvent, lang))}</strong> <span class="sub">(${escapeHtml(e.event)})</span><br>
<time datetime="${e.eventTime.toISOString()}" data-local>${utc(e.eventTime)} ${escapeHtml(p.timeUtc)}</time> · ${escapeHtml(t.issuedBy)}: ${escapeHtml(e.issuedBy ?? '')}<br>
<a href="/sender/evidence/${encodeURIComponent(e.id)}.xml" download>${escapeHtml(t.download)}</a> ·
<a href="/sender/evidence/${encodeURIComponent(e.id)}/verify?lang=${lang}">${escapeHtml(t.verify)}</a>
</li>`,
    )
    .join('\n');
  return frame(
    lang,
    `${t.message} ${message.subject ?? message.id}`,
    `<p><a href="/sender?lang=${lang}">← ${escapeHtml(t.back)}</a></p>
<h1>${escapeHtml(message.subject ?? message.id)}</h1>
<table class="facts"><tbody>
<tr><th scope="row">${escapeHtml(t.state)}</th><td><span class="state state-${message.state}" data-state="${message.state}">${escapeHtml(t.states[message.state])}</span></td></tr>
<tr><th scope="row">${escapeHtml(t.recipient)}</th><td>${escapeHtml(formatParticipantId(message.recipient))}</td></tr>
${referenceOf(message) ? `<tr><th scope="row">${escapeHtml(t.reference)}</th><td>${escapeHtml(referenceOf(message)!)}</td></tr>` : ''}
<tr><th scope="row">${escapeHtml(t.submitted)}</th><td>${utc(message.submittedAt)}</td></tr>
<tr><th scope="row">${escapeHtml(t.parts)}</th><td>${message.parts.map((part) => `${escapeHtml(part.filename ?? part.partId)} (${escapeHtml(part.contentType)}, ${part.size} B)<br><code class="digest">SHA-256 ${escapeHtml(part.sha256)}</code>`).join('<br>')}</td></tr>
</tbody></table>
<h2>${escapeHtml(t.evidence)}</h2>
<ol class="timeline">
${items}
</ol>`,
    who,
    `/sender/messages/${encodeURIComponent(message.id)}`,
  );
}

export function renderNotFound(lang: PlainLanguage, who: string): string {
  const t = senderTexts(lang);
  return frame(
    lang,
    t.notFound,
    `<p><a href="/sender?lang=${lang}">← ${escapeHtml(t.back)}</a></p><p class="notice" role="alert">${escapeHtml(t.notFound)}</p>`,
    who,
  );
}

/** The sender's own correlation id, when the message carries one (REST metadata `reference`). */
function referenceOf(m: StoredMessage): string | undefined {
  return m.reference === undefined || m.reference === '' ? undefined : m.reference;
}
