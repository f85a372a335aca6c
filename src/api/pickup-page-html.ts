import { eventInWords, phrasesFor, type PlainLanguage } from '../evidence/index.js';
import { formatParticipantId, type Identification } from '../core/index.js';
import type { EvidenceRecord, StoredMessage } from '../store/types.js';
import { escapeHtml, layout } from './html-page.js';
import { PICKUP_LINK_TOTP_METHOD } from './methods.js';
import type { EnrolledFactors } from './pickup-gate.js';

const texts = {
  en: {
    title: 'Registered message for you',
    intro: 'A registered message is waiting for you. To open it, confirm it is you.',
    totp: 'Code from your authenticator app',
    totpHint: '6 digits',
    password: 'Your password',
    orPassword: 'Or use your password',
    continue: 'Continue',
    onceOnly: (minutes: number) =>
      `This link works once: after you confirm, this browser can open the message for the next ${minutes} minutes.`,
    wrongFactor: 'That is not correct. Please try again.',
    attemptsLeft: (n: number) => `${n} ${n === 1 ? 'try' : 'tries'} left before this link is locked.`,
    factorRequired: 'Please enter your code or your password.',
    notices: {
      linkInvalid: [
        'This link cannot be used',
        'The link is not valid, has expired, or was already used. If you still need the message, ask the sender to send it again.',
      ],
      locked: [
        'This link is locked',
        'Too many wrong codes or passwords were entered. Ask the sender to send the message again.',
      ],
      tooMany: [
        'Too many attempts',
        'Too many wrong codes or passwords came from this network. Please wait 15 minutes and try again.',
      ],
      assurance: [
        'This sign-in is not strong enough',
        'The provider requires a stronger way to confirm it is you for this message. Please contact the provider.',
      ],
      sessionEnded: [
        'Your session has ended',
        'For your security the page is open only for a short time. Open the link in your notification again, or ask the sender to send it again.',
      ],
      formExpired: [
        'The form has expired',
        'Please open the link in your notification again and repeat the step.',
      ],
      noDocument: ['No such document', 'The document is not available.'],
    },
    from: 'From',
    subject: 'Subject',
    to: 'To',
    sent: 'Sent',
    state: 'Status',
    identifiedBy: 'You confirmed it is you with',
    byTotp: 'a code from your authenticator app',
    byPassword: 'your password',
    documents: 'Documents',
    name: 'Document',
    size: 'Size',
    digest: 'Fingerprint (SHA-256)',
    download: 'Download',
    afterDownload:
      'Downloading a document records that you received it (a sealed proof, "ContentHandover"). Reload this page after the download to get the proof.',
    acceptFirst:
      'The sender asks you to accept this message before you can download it. If you refuse it, you will not receive the documents.',
    accept: 'Accept the message',
    reject: 'Refuse the message',
    reason: 'Reason for refusing (optional)',
    answerFailed:
      'Your answer could not be recorded: the message no longer waits for it, or the text cannot be used.',
    notOpen: 'The documents cannot be downloaded now.',
    evidence: 'Proofs about this message',
    evidenceIntro: 'Each proof is sealed by the provider and can be checked by anyone at',
    handedOver: 'Proof that you received the documents',
    states: {
      open: 'Ready to download',
      delivered: 'You have received the documents',
      awaiting: 'Waiting for your answer',
      accepted: 'You accepted the message',
      rejected: 'You refused the message',
      closed: 'No longer available',
    },
  },
  ja: {
    title: 'あなた宛ての書留メッセージ',
    intro: 'あなた宛ての書留メッセージが届いています。開くには、ご本人であることを確認してください。',
    totp: '認証アプリに表示されるコード',
    totpHint: '6桁',
    password: 'パスワード',
    orPassword: 'またはパスワードを使う',
    continue: '次へ',
    onceOnly: (minutes: number) =>
      `このリンクは一度だけ使えます。確認後${minutes}分間、このブラウザでメッセージを開けます。`,
    wrongFactor: '正しくありません。もう一度入力してください。',
    attemptsLeft: (n: number) => `あと${n}回間違えると、このリンクは使えなくなります。`,
    factorRequired: 'コードまたはパスワードを入力してください。',
    notices: {
      linkInvalid: [
        'このリンクは使えません',
        'リンクが正しくないか、有効期限が切れているか、すでに使われています。メッセージが必要な場合は、送信者に再送を依頼してください。',
      ],
      locked: [
        'このリンクはロックされました',
        '間違ったコードまたはパスワードが何度も入力されました。送信者にメッセージの再送を依頼してください。',
      ],
      tooMany: [
        '試行回数が多すぎます',
        'このネットワークから間違ったコードまたはパスワードが何度も入力されました。15分待ってから再試行してください。',
      ],
      assurance: [
        'この確認方法では不十分です',
        'このメッセージには、より確かな本人確認が必要です。事業者にお問い合わせください。',
      ],
      sessionEnded: [
        'セッションが終了しました',
        '安全のため、このページは短時間しか開けません。通知のリンクをもう一度開くか、送信者に再送を依頼してください。',
      ],
      formExpired: ['フォームの有効期限が切れました', '通知のリンクをもう一度開いて、やり直してください。'],
      noDocument: ['その文書はありません', 'その文書は利用できません。'],
    },
    from: '送信者',
    subject: '件名',
    to: '宛先',
    sent: '送信日時',
    state: '状態',
    identifiedBy: '本人確認の方法',
    byTotp: '認証アプリのコード',
    byPassword: 'パスワード',
    documents: '文書',
    name: '文書',
    size: 'サイズ',
    digest: 'フィンガープリント（SHA-256）',
    download: 'ダウンロード',
    afterDownload:
      '文書をダウンロードすると、受け取ったことが記録されます（封印された証拠「ContentHandover」）。ダウンロード後にこのページを再読み込みすると、証拠を入手できます。',
    acceptFirst:
      '送信者は、ダウンロードの前にこのメッセージの受諾を求めています。拒否すると文書は受け取れません。',
    accept: 'メッセージを受諾する',
    reject: 'メッセージを拒否する',
    reason: '拒否の理由（任意）',
    answerFailed:
      '回答を記録できませんでした。メッセージがすでに回答を待っていないか、入力された文字を使えません。',
    notOpen: '現在、文書はダウンロードできません。',
    evidence: 'このメッセージの証拠',
    evidenceIntro: '各証拠は事業者が封印しており、誰でも次のページで確認できます：',
    handedOver: '文書を受け取ったことの証拠',
    states: {
      open: 'ダウンロードできます',
      delivered: '文書を受け取りました',
      awaiting: 'あなたの回答待ち',
      accepted: 'メッセージを受諾しました',
      rejected: 'メッセージを拒否しました',
      closed: '利用できなくなりました',
    },
  },
} as const;

type Texts = (typeof texts)['en'];
const textsFor = (lang: PlainLanguage): Texts => texts[lang] as unknown as Texts;

/** What a notice page says: each a heading and one sentence. */
export type PickupNotice = keyof Texts['notices'];

const utc = (d: Date) => d.toISOString().slice(0, 19).replace('T', ' ');

/** Bytes in the unit a person reads (the exact count beside it). */
function size(bytes: number, lang: PlainLanguage): string {
  const unit = lang === 'ja' ? 'バイト' : 'bytes';
  if (bytes < 1024) return `${bytes} ${unit}`;
  const kib = bytes / 1024;
  const shown = kib < 1024 ? `${Math.round(kib * 10) / 10} KB` : `${Math.round((kib / 1024) * 10) / 10} MB`;
  return `${shown} (${bytes.toLocaleString('en-US')} ${unit})`;
}

export function renderSignIn(
  lang: PlainLanguage,
  options: {
    token: string;
    enrolled: EnrolledFactors;
    formToken: string;
    sessionMinutes: number;
    problem?: 'wrongFactor' | 'factorRequired';
    attemptsLeft?: number;
  },
): string {
  const t = textsFor(lang);
  const action = `/pickup/${encodeURIComponent(options.token)}?lang=${lang}`;
  const hidden = `<input type="hidden" name="csrf" value="${escapeHtml(options.formToken)}">`;
  const totp = options.enrolled.totp
    ? `<form method="post" action="${escapeHtml(action)}" class="upload" data-factor="totp">
${hidden}
<label for="totp">${escapeHtml(t.totp)} <span class="hint">(${escapeHtml(t.totpHint)})</span></label>
<input id="totp" name="totp" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,8}" maxlength="8" required>
<button type="submit">${escapeHtml(t.continue)}</button>
</form>`
    : '';
  const password = options.enrolled.password
    ? `${options.enrolled.totp ? `<h2>${escapeHtml(t.orPassword)}</h2>` : ''}<form method="post" action="${escapeHtml(action)}" class="upload" data-factor="password">
${hidden}
<label for="password">${escapeHtml(t.password)}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">${escapeHtml(t.continue)}</button>
</form>`
    : '';
  const problem = options.problem
    ? `<p class="notice" role="alert" data-message="${options.problem}">${escapeHtml(t[options.problem])}${options.attemptsLeft !== undefined ? ` ${escapeHtml(t.attemptsLeft(options.attemptsLeft))}` : ''}</p>`
    : '';
  return layout(
    lang,
    t.title,
    `<h1>${escapeHtml(t.title)}</h1>
<p>${escapeHtml(t.intro)}</p>
${problem}
${totp}
${password}
<p class="sub">${escapeHtml(t.onceOnly(options.sessionMinutes))}</p>`,
    { switchTo: `/pickup/${encodeURIComponent(options.token)}` },
  );
}

/** `switchTo`: the page the language switch leads to (the same address, in the other language). */
export function renderPickupNotice(lang: PlainLanguage, kind: PickupNotice, switchTo: string): string {
  const t = textsFor(lang);
  const [heading, sentence] = t.notices[kind];
  return layout(
    lang,
    heading,
    `<h1>${escapeHtml(heading)}</h1>\n<p class="notice" role="alert" data-notice="${kind}">${escapeHtml(sentence)}</p>`,
    { switchTo },
  );
}

export interface PickupMessageView {
  readonly message: StoredMessage;
  readonly senderName?: string;
  readonly identification: Identification;
  readonly evidence: readonly EvidenceRecord[];
  /** Whether the documents may be downloaded now (checkHandover passes). */
  readonly open: boolean;
  readonly formToken: string;
  readonly problem?: 'answerFailed';
}

export function renderPickupMessage(lang: PlainLanguage, view: PickupMessageView): string {
  const t = textsFor(lang);
  const p = phrasesFor(lang);
  const m = view.message;
  const awaiting = m.state === 'awaiting-acceptance';
  const state: keyof Texts['states'] =
    m.state === 'delivered'
      ? 'delivered'
      : awaiting
        ? 'awaiting'
        : m.state === 'rejected'
          ? 'rejected'
          : view.open
            ? m.state === 'accepted'
              ? 'accepted'
              : 'open'
            : 'closed';
  const sender = `${view.senderName ? `${escapeHtml(view.senderName)} ` : ''}<span class="sub">(${escapeHtml(formatParticipantId(m.sender))})</span>`;
  const rows = m.parts
    .map(
      (part) => `<tr data-part="${escapeHtml(part.partId)}">
<td>${escapeHtml(part.filename ?? part.partId)}<br><span class="sub">${escapeHtml(part.contentType)}</span></td>
<td class="nowrap" data-size="${part.size}">${escapeHtml(size(part.size, lang))}</td>
<td><code class="digest">${escapeHtml(part.sha256)}</code></td>
<td>${view.open ? `<a class="button" href="/pickup/session/parts/${encodeURIComponent(part.partId)}" download data-download>${escapeHtml(t.download)}</a>` : ''}</td>
</tr>`,
    )
    .join('\n');
  const hidden = `<input type="hidden" name="csrf" value="${escapeHtml(view.formToken)}">`;
  const answer = awaiting
    ? `<p class="notice" data-acceptance>${escapeHtml(t.acceptFirst)}</p>
<form method="post" action="/pickup/session/accept?lang=${lang}" class="answer" data-answer="accept">${hidden}<button type="submit">${escapeHtml(t.accept)}</button></form>
<form method="post" action="/pickup/session/reject?lang=${lang}" class="upload" data-answer="reject">${hidden}
<label for="reason">${escapeHtml(t.reason)}</label>
<textarea id="reason" name="reason" maxlength="1000" rows="2"></textarea>
<button type="submit" class="secondary">${escapeHtml(t.reject)}</button>
</form>`
    : '';
  const items = view.evidence
    .map(
      (e) => `<li data-evidence="${escapeHtml(e.event)}">
<strong>${escapeHtml(e.event === 'ContentHandover' ? t.handedOver : eventInWords(e.event, lang))}</strong> <span class="sub">(${escapeHtml(e.event)})</span><br>
<time datetime="${e.eventTime.toISOString()}" data-local>${utc(e.eventTime)} ${escapeHtml(p.timeUtc)}</time> ·
<a href="/pickup/session/evidence/${encodeURIComponent(e.id)}.xml" download>${escapeHtml(t.download)}</a>
</li>`,
    )
    .join('\n');
  const how = view.identification.method === PICKUP_LINK_TOTP_METHOD ? t.byTotp : t.byPassword;
  return layout(
    lang,
    m.subject ?? t.title,
    `<h1>${escapeHtml(m.subject ?? t.title)}</h1>
${view.problem ? `<p class="notice" role="alert" data-message="${view.problem}">${escapeHtml(t[view.problem])}</p>` : ''}
<table class="facts"><tbody>
<tr><th scope="row">${escapeHtml(t.from)}</th><td data-fact="sender">${sender}</td></tr>
<tr><th scope="row">${escapeHtml(t.subject)}</th><td data-fact="subject">${escapeHtml(m.subject ?? '')}</td></tr>
<tr><th scope="row">${escapeHtml(t.to)}</th><td>${escapeHtml(formatParticipantId(m.recipient))}</td></tr>
<tr><th scope="row">${escapeHtml(t.sent)}</th><td><time datetime="${m.submittedAt.toISOString()}" data-local>${utc(m.submittedAt)} ${escapeHtml(p.timeUtc)}</time></td></tr>
<tr><th scope="row">${escapeHtml(t.state)}</th><td><span class="state" data-state="${state}">${escapeHtml(t.states[state])}</span></td></tr>
<tr><th scope="row">${escapeHtml(t.identifiedBy)}</th><td>${escapeHtml(how)}</td></tr>
</tbody></table>
${answer}
<h2>${escapeHtml(t.documents)}</h2>
<table class="list">
<thead><tr><th scope="col">${escapeHtml(t.name)}</th><th scope="col">${escapeHtml(t.size)}</th><th scope="col">${escapeHtml(t.digest)}</th><th scope="col"><span class="sub">${escapeHtml(t.download)}</span></th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
${view.open ? `<p class="sub">${escapeHtml(t.afterDownload)}</p>` : awaiting ? '' : `<p class="sub" data-closed>${escapeHtml(t.notOpen)}</p>`}
<h2>${escapeHtml(t.evidence)}</h2>
<p class="sub">${escapeHtml(t.evidenceIntro)} <a href="/verify?lang=${lang}">/verify</a></p>
<ol class="timeline">
${items}
</ol>`,
    { switchTo: '/pickup/session' },
  );
}
