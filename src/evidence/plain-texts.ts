import type { EvidenceEvent, ReasonCode } from '../core/index.js';
import type { SubIndication } from './types.js';

/** Languages the plain-language report speaks. */
export type PlainLanguage = 'en' | 'ja';
export const plainLanguages: readonly PlainLanguage[] = ['en', 'ja'];

/** The event in words a person understands ("delivered to the recipient's inbox", not RD01). */
const eventWords: Record<PlainLanguage, Record<EvidenceEvent, string>> = {
  en: {
    SubmissionAcceptance: "The sender's provider accepted the message for registered delivery",
    SubmissionRejection: "The sender's provider refused the message",
    RelayAcceptance: "The recipient's provider received the message from the sender's provider",
    RelayRejection: "The recipient's provider refused the message",
    RelayFailure: "The message could not be passed on to the recipient's provider",
    NotificationForAcceptance: 'The recipient was asked to accept the message',
    NotificationForAcceptanceFailure: 'The recipient could not be asked to accept the message',
    ConsignmentAcceptance: 'The recipient accepted the message',
    ConsignmentRejection: 'The recipient refused the message',
    AcceptanceRejectionExpiry: 'The recipient did not answer in time',
    ContentConsignment: "The message was delivered to the recipient's inbox",
    ContentConsignmentFailure: "The message could not be delivered to the recipient's inbox",
    ConsignmentNotification: 'The recipient was told the message is waiting to be picked up',
    ConsignmentNotificationFailure: 'The recipient could not be told that the message is waiting',
    ContentHandover: 'The recipient took the document (downloaded it)',
    ContentHandoverFailure: 'The document could not be handed over to the recipient',
    RelayToNonERDS: 'The message was passed on to a system outside registered delivery (for example e-mail)',
    RelayToNonERDSFailure: 'The message could not be passed on to a system outside registered delivery',
    ReceivedFromNonERDS: 'The message came in from a system outside registered delivery (for example e-mail)',
  },
  ja: {
    SubmissionAcceptance: '送信者側の事業者が書留配達のためにメッセージを受け付けました',
    SubmissionRejection: '送信者側の事業者がメッセージの受付を拒否しました',
    RelayAcceptance: '受信者側の事業者が送信者側の事業者からメッセージを受け取りました',
    RelayRejection: '受信者側の事業者がメッセージを拒否しました',
    RelayFailure: 'メッセージを受信者側の事業者へ中継できませんでした',
    NotificationForAcceptance: '受信者にメッセージの受諾を依頼しました',
    NotificationForAcceptanceFailure: '受信者に受諾の依頼を届けられませんでした',
    ConsignmentAcceptance: '受信者がメッセージを受諾しました',
    ConsignmentRejection: '受信者がメッセージを拒否しました',
    AcceptanceRejectionExpiry: '受信者が期限内に回答しませんでした',
    ContentConsignment: 'メッセージが受信者の受信箱に届きました',
    ContentConsignmentFailure: 'メッセージを受信者の受信箱に届けられませんでした',
    ConsignmentNotification: '受信者に、メッセージが受け取り待ちであることを通知しました',
    ConsignmentNotificationFailure: '受信者に受け取り待ちの通知を届けられませんでした',
    ContentHandover: '受信者が文書を受け取りました（ダウンロードしました）',
    ContentHandoverFailure: '文書を受信者に引き渡せませんでした',
    RelayToNonERDS: 'メッセージを書留配達の外のシステム（電子メールなど）へ送りました',
    RelayToNonERDSFailure: 'メッセージを書留配達の外のシステムへ送れませんでした',
    ReceivedFromNonERDS: 'メッセージが書留配達の外のシステム（電子メールなど）から届きました',
  },
};

/** Reason codes in words (EN 319 522-2 tables 7–12); codes not listed are shown as their code alone. */
const reasonWords: Record<PlainLanguage, Partial<Record<ReasonCode, string>>> = {
  en: {
    RA01: 'accepted',
    RA02: 'the message format is not valid',
    RA03: 'malware was found',
    RA04: "the sender's signing certificate had expired or was revoked",
    RA05: "the message broke the sender's provider's rules (size, formats…)",
    RB01: "relayed to the recipient's provider",
    RB02: "rejected by the recipient's provider",
    RB03: "rejected by the recipient's provider: malware",
    RB04: "rejected by the recipient's provider: invalid signature",
    RB05: "rejected by the recipient's provider: invalid certificate",
    RB06: "rejected by the recipient's provider: its rules were broken",
    RB07: "the recipient's provider did not work",
    RB08: "the recipient's provider could not be identified",
    RB09: "the recipient's provider could not be reached",
    RB10: 'the recipient is unknown',
    RC07: 'accepted by the recipient',
    RC08: 'refused by the recipient',
    RC09: 'not accepted in time',
    RD01: 'delivered to the recipient',
    RD02: "delivered to the recipient's delegate",
    RD04: "the recipient's storage quota was full",
    RD05: 'a malfunction prevented delivery',
    RD06: 'the recipient does not accept this type of document',
    RE01: 'handed over to the recipient',
    RE02: "handed over to the recipient's delegate",
    RE03: 'the recipient does not accept this type of document',
    RE04: 'the handover timed out',
    RF01: 'relayed outside registered delivery',
    RF02: 'the outside system could not be reached',
    RF03: 'refused by the outside system',
    RF04: 'received from outside registered delivery',
  },
  ja: {
    RA01: '受付済み',
    RA02: 'メッセージの形式が正しくありません',
    RA03: 'マルウェアが見つかりました',
    RA04: '送信者の署名用証明書が期限切れまたは失効していました',
    RA05: '送信者側の事業者の規則（サイズ、形式など）に反しています',
    RB01: '受信者側の事業者へ中継済み',
    RB02: '受信者側の事業者が拒否しました',
    RB03: '受信者側の事業者が拒否しました（マルウェア）',
    RB04: '受信者側の事業者が拒否しました（署名が無効）',
    RB05: '受信者側の事業者が拒否しました（証明書が無効）',
    RB06: '受信者側の事業者が拒否しました（規則違反）',
    RB07: '受信者側の事業者が故障していました',
    RB08: '受信者側の事業者を特定できませんでした',
    RB09: '受信者側の事業者に接続できませんでした',
    RB10: '受信者が不明です',
    RC07: '受信者が受諾しました',
    RC08: '受信者が拒否しました',
    RC09: '期限内に受諾されませんでした',
    RD01: '受信者に配達済み',
    RD02: '受信者の代理人に配達済み',
    RD04: '受信者の保存容量が上限に達していました',
    RD05: '故障のため配達できませんでした',
    RD06: '受信者はこの種類の文書を受け付けていません',
    RE01: '受信者に引き渡し済み',
    RE02: '受信者の代理人に引き渡し済み',
    RE03: '受信者はこの種類の文書を受け付けていません',
    RE04: '引き渡しが時間切れになりました',
    RF01: '書留配達の外へ中継済み',
    RF02: '外部のシステムに接続できませんでした',
    RF03: '外部のシステムが拒否しました',
    RF04: '書留配達の外から受信',
  },
};

/**
 * Why a proof is not valid, in one sentence a non-expert understands, by EN 319 102-1 sub-indication.
 * The technical finding stays in the report below it.
 */
const subIndicationWords: Record<PlainLanguage, Record<SubIndication, string>> = {
  en: {
    FORMAT_FAILURE: 'The file is damaged or not in the expected form.',
    HASH_FAILURE: 'The content was changed after it was sealed.',
    SIG_CRYPTO_FAILURE: 'The seal does not match the content: the file was altered or the seal is forged.',
    REVOKED: 'The certificate of whoever sealed it had been revoked.',
    NO_SIGNING_CERTIFICATE_FOUND: 'The certificate of whoever sealed it is missing.',
    NO_CERTIFICATE_CHAIN_FOUND: 'The seal does not lead to any trusted provider.',
    OUT_OF_BOUNDS_NO_POE: 'The certificate was not valid at the time that counts.',
    CHAIN_CONSTRAINTS_FAILURE: "The seal's certificate is not allowed for this use.",
    CRYPTO_CONSTRAINTS_FAILURE: 'The seal uses an algorithm that is no longer considered safe.',
    SIG_CONSTRAINTS_FAILURE:
      'The seal does not meet the required rules, or uses a form this verifier does not check.',
    TIMESTAMP_ORDER_FAILURE: 'The times in the file are in an impossible order.',
    TRY_LATER:
      'Whether the certificate was revoked could not be checked now; try again later or provide revocation data.',
    NO_POE: 'Nothing proves when the file was sealed (no valid timestamp).',
    SIGNED_DATA_NOT_FOUND: 'The signature is kept apart from its document: add the document to check it.',
  },
  ja: {
    FORMAT_FAILURE: 'ファイルが壊れているか、想定された形式ではありません。',
    HASH_FAILURE: '封印の後で内容が変更されています。',
    SIG_CRYPTO_FAILURE: '封印が内容と一致しません。ファイルが改ざんされたか、封印が偽造されています。',
    REVOKED: '封印した者の証明書は失効していました。',
    NO_SIGNING_CERTIFICATE_FOUND: '封印した者の証明書が見つかりません。',
    NO_CERTIFICATE_CHAIN_FOUND: '封印が信頼できる事業者につながりません。',
    OUT_OF_BOUNDS_NO_POE: '該当する時点で証明書が有効ではありませんでした。',
    CHAIN_CONSTRAINTS_FAILURE: '封印の証明書はこの用途に使えません。',
    CRYPTO_CONSTRAINTS_FAILURE: '封印に、現在は安全とみなされないアルゴリズムが使われています。',
    SIG_CONSTRAINTS_FAILURE: '封印が必要な規則を満たしていないか、この検証ツールが確認しない形式です。',
    TIMESTAMP_ORDER_FAILURE: 'ファイル内の時刻の順序があり得ないものです。',
    TRY_LATER:
      '証明書が失効していないかを今は確認できませんでした。後で再試行するか、失効情報を提供してください。',
    NO_POE: 'いつ封印されたかを証明するもの（有効なタイムスタンプ）がありません。',
    SIGNED_DATA_NOT_FOUND: '署名は文書と別になっています。確認するには文書も追加してください。',
  },
};

/** Fixed phrases of the report and the page. */
const phrases = {
  en: {
    verdictValid: 'Valid',
    verdictInvalid: 'Not valid',
    verdictUndecided: 'Cannot be decided',
    headlineValid: 'This proof is genuine and unchanged.',
    headlineInvalid: 'This proof must not be trusted.',
    headlineUndecided: 'This proof could not be confirmed.',
    unknownReason: 'A check failed; see the technical findings below.',
    invalidChain: 'At least one proof in the chain is not valid, or the chain has a gap.',
    event: 'What happened',
    reason: 'Reason',
    issuer: 'Issued by',
    sender: 'Sender',
    recipient: 'Recipient',
    time: 'When',
    timeUtc: 'UTC',
    timestamp: 'Time confirmed by the timestamp authority',
    noTimestamp: 'No timestamp: the time is only claimed by the issuer.',
    message: 'Message',
    documents: 'Documents',
    matches: 'matches the file you gave',
    doesNotMatch: 'does NOT match the file you gave',
    qualifiedSeal: "Issuer's seal on a trusted list as qualified",
    qualifiedTsa: 'Timestamp authority on a trusted list as qualified',
    yes: 'yes',
    no: 'no',
    notChecked: 'not checked (no trusted list)',
    kind: 'File',
    timeline: 'The whole history',
    technical: 'Technical findings',
    signer: 'Sealed with the certificate of',
    kinds: {
      'evidence-xml': 'Registered-delivery evidence (ETSI EN 319 522)',
      'evidence-chain': 'Chain of registered-delivery evidence (export)',
      'timestamp-token': 'Timestamp (RFC 3161)',
      'rem-message': 'Registered e-mail (REM, ETSI EN 319 532)',
      'as4-capture': 'AS4 message',
      cades: 'Signed document (CAdES / CMS)',
      xades: 'Signed XML document (XAdES / XML signature)',
      'trusted-list': 'Trusted list (ETSI TS 119 612)',
    } as Record<string, string>,
  },
  ja: {
    verdictValid: '有効',
    verdictInvalid: '無効',
    verdictUndecided: '判定できません',
    headlineValid: 'この証明は本物で、変更されていません。',
    headlineInvalid: 'この証明は信頼してはいけません。',
    headlineUndecided: 'この証明を確認できませんでした。',
    unknownReason: '確認の一つが失敗しました。下の技術的な結果を参照してください。',
    invalidChain: '履歴の中に無効な証明があるか、履歴が途切れています。',
    event: '出来事',
    reason: '理由',
    issuer: '発行者',
    sender: '送信者',
    recipient: '受信者',
    time: '日時',
    timeUtc: '協定世界時',
    timestamp: '時刻認証局が確認した時刻',
    noTimestamp: 'タイムスタンプがありません。時刻は発行者の申告にすぎません。',
    message: 'メッセージ',
    documents: '文書',
    matches: 'お持ちのファイルと一致します',
    doesNotMatch: 'お持ちのファイルと一致しません',
    qualifiedSeal: '発行者の封印がトラストリストに適格として掲載',
    qualifiedTsa: '時刻認証局がトラストリストに適格として掲載',
    yes: 'はい',
    no: 'いいえ',
    notChecked: '未確認（トラストリストなし）',
    kind: 'ファイル',
    timeline: 'これまでの履歴',
    technical: '技術的な結果',
    signer: '封印に使われた証明書',
    kinds: {
      'evidence-xml': '書留配達の証拠（ETSI EN 319 522）',
      'evidence-chain': '書留配達の証拠の履歴（エクスポート）',
      'timestamp-token': 'タイムスタンプ（RFC 3161）',
      'rem-message': '書留電子メール（REM、ETSI EN 319 532）',
      'as4-capture': 'AS4メッセージ',
      cades: '署名付き文書（CAdES / CMS）',
      xades: '署名付きXML文書（XAdES / XML署名）',
      'trusted-list': 'トラストリスト（ETSI TS 119 612）',
    } as Record<string, string>,
  },
} as const;

export type PlainPhrases = (typeof phrases)['en'];

export function phrasesFor(lang: PlainLanguage): PlainPhrases {
  return phrases[lang] as PlainPhrases;
}

export function eventInWords(event: EvidenceEvent, lang: PlainLanguage): string {
  return eventWords[lang][event];
}

export function reasonInWords(code: ReasonCode, lang: PlainLanguage): string | undefined {
  return reasonWords[lang][code];
}

export function subIndicationInWords(sub: SubIndication, lang: PlainLanguage): string {
  return subIndicationWords[lang][sub];
}

/**
 * The language a person's browser prefers among ours (RFC 9110 §12.5.4 Accept-Language, q-values honoured),
 * English when it names none of them.
 */
export function languageFromAcceptLanguage(header: string | undefined): PlainLanguage {
  if (!header) return 'en';
  const ranked = header
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const quality = q ? Number(q.slice(2)) : 1;
      return { tag: tag.trim().toLowerCase(), quality: Number.isFinite(quality) ? quality : 0, index };
    })
    .filter((r) => r.quality > 0)
    .sort((a, b) => b.quality - a.quality || a.index - b.index);
  for (const { tag } of ranked) {
    const primary = tag.split('-')[0] as PlainLanguage;
    if (plainLanguages.includes(primary)) return primary;
  }
  return 'en';
}
