/**
 * The human-readable introduction of REM messages (EN 319 532-3: the `rem_message/introduction` section),
 * in Japanese and English, one text per event. The evidence XML is what proves; this text only explains.
 */
export interface IntroductionTexts {
  readonly text: string;
  readonly html: string;
}

interface EventText {
  readonly ja: string;
  readonly en: string;
}

const eventTexts: Readonly<Record<string, EventText>> = {
  SubmissionAcceptance: {
    ja: '送信されたメッセージを受け付けました。',
    en: 'Your message has been accepted for registered delivery.',
  },
  SubmissionRejection: {
    ja: '送信されたメッセージは受け付けられませんでした。',
    en: 'Your message was not accepted for registered delivery.',
  },
  RelayAcceptance: {
    ja: 'メッセージは受信者の事業者に受け付けられました。',
    en: "Your message has been accepted by the recipient's provider.",
  },
  RelayRejection: {
    ja: 'メッセージは受信者の事業者に拒否されました。',
    en: "Your message was rejected by the recipient's provider.",
  },
  RelayFailure: {
    ja: 'メッセージを受信者の事業者に中継できませんでした。',
    en: "Your message could not be relayed to the recipient's provider.",
  },
  ContentConsignment: {
    ja: 'メッセージは受信者に届けられました（受信箱で利用可能）。',
    en: 'The message has been made available to the recipient.',
  },
  ContentConsignmentFailure: {
    ja: 'メッセージを受信者に届けられませんでした。',
    en: 'The message could not be made available to the recipient.',
  },
  ContentHandover: {
    ja: 'メッセージは受信者に引き渡されました。',
    en: 'The message has been handed over to the recipient.',
  },
  ContentHandoverFailure: {
    ja: 'メッセージを受信者に引き渡せませんでした。',
    en: 'The message could not be handed over to the recipient.',
  },
};

const fallback: EventText = {
  ja: '登録配達に関する証跡をお送りします。',
  en: 'Please find attached the evidence of a registered delivery event.',
};

export interface IntroductionInput {
  /** EN 319 522 event name, e.g. `SubmissionAcceptance`. */
  readonly event: string;
  readonly subject: string;
  /** Event time, shown in UTC and JST. */
  readonly eventTime: Date;
  /** Reason text of a negative event, shown as is. */
  readonly reason?: string;
}

/** The bilingual introduction (Japanese first) as plain text and HTML. */
export function introductionTexts(input: IntroductionInput): IntroductionTexts {
  const t = eventTexts[input.event] ?? fallback;
  const utc = input.eventTime.toISOString();
  const jst = new Date(input.eventTime.getTime() + 9 * 3600_000).toISOString().replace('Z', '+09:00');
  const reason = input.reason ? [`理由 / Reason: ${input.reason}`] : [];
  const lines = [
    `${t.ja}`,
    `件名: ${input.subject}`,
    `事象: ${input.event}（${jst}）`,
    ...reason,
    '添付の証跡（XML、電子シール付き）が正式な記録です。',
    '',
    `${t.en}`,
    `Subject: ${input.subject}`,
    `Event: ${input.event} (${utc})`,
    'The attached evidence (XML, sealed by the provider) is the authoritative record.',
  ];
  const html = [
    '<!DOCTYPE html>',
    '<html><head><meta charset="utf-8"><title>REM</title></head><body>',
    `<p lang="ja">${escapeHtml(t.ja)}<br>件名: ${escapeHtml(input.subject)}<br>事象: ${escapeHtml(input.event)}（${jst}）</p>`,
    `<p lang="en">${escapeHtml(t.en)}<br>Subject: ${escapeHtml(input.subject)}<br>Event: ${escapeHtml(input.event)} (${utc})</p>`,
    ...(input.reason ? [`<p>理由 / Reason: ${escapeHtml(input.reason)}</p>`] : []),
    '</body></html>',
  ];
  return { text: lines.join('\r\n') + '\r\n', html: html.join('\r\n') + '\r\n' };
}

// Subjects come from senders: escaped so that an intro cannot carry markup or script into a mail reader.
function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}
