import { smtpErrors } from './errors.js';

/** The part of smtp-server's connection that writes replies. */
interface ReplyWriter {
  send(code: number, data?: string | string[] | null, context?: string | false): void;
}

const LEADING_ENHANCED_CODE = /^[245]\.\d{1,3}\.\d{1,3} /;

/**
 * smtp-server derives the enhanced status code of an application error from the basic reply code alone
 * (550 → 5.1.1, 553 → 5.1.3, 554 → 5.6.0), so a relay refusal would read "550 5.1.1". Our errors carry their
 * enhanced code at the start of the text (errors.ts, toServerError); this wrapper sends such a text without
 * the derived code. An AUTH refused for want of TLS (smtp-server's 538 5.7.0, or 500 "not recognized" where
 * the intake disabled AUTH on cleartext) becomes the reply RFC 4954 §6 assigns: 538 5.7.11. Every other
 * reply passes through unchanged.
 */
export function withOwnEnhancedCodes(connection: ReplyWriter): void {
  const send = connection.send.bind(connection);
  connection.send = (code, data, context) => {
    if (typeof data === 'string' && LEADING_ENHANCED_CODE.test(data)) return send(code, data, false);
    // 538: smtp-server's own refusal of AUTH before TLS; 500 for AUTH: the intake disables AUTH on cleartext.
    if (code === 538 || (code === 500 && context === 'AUTH')) {
      const entry = smtpErrors.SMTP_TLS_REQUIRED;
      return send(entry.reply, `${entry.enhanced} ${entry.text}`, false);
    }
    send(code, data, context);
  };
}
