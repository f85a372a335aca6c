/**
 * Duplicate detection of the receiving MSH (ebMS 3.0 Core §3.2 `PMode[1].ReceptionAwareness.DuplicateDetection`,
 * AS4 §3.2): the receipt sent for each copy of a message (its MessageId and signed digests: the handler's key),
 * kept for the P-Mode's window, so that a sender that resends the same bytes (its receipt was lost) gets the very
 * same signed receipt and the message is not processed twice.
 */
export interface ReceiptMemory {
  /** The receipt sent for `messageId`, while its window lasts at `now`. */
  recall(messageId: string, now: Date): string | undefined;
  /** Keep `receiptXml` for `messageId` until `until`. */
  remember(messageId: string, receiptXml: string, until: Date): void;
}

/**
 * In this process's memory, at most `maxEntries` receipts (the oldest go first when full, the expired when
 * seen). Not shared between processes and lost on restart: the AP's store then still drops the duplicate
 * (reception is idempotent by MessageId), and the sender gets a new receipt with the same digests.
 */
export function createReceiptMemory(options: { maxEntries?: number } = {}): ReceiptMemory {
  const maxEntries = options.maxEntries ?? 10_000;
  const entries = new Map<string, { receiptXml: string; until: number }>();
  return {
    recall(messageId, now) {
      const entry = entries.get(messageId);
      if (!entry) return undefined;
      if (entry.until <= now.getTime()) {
        entries.delete(messageId);
        return undefined;
      }
      return entry.receiptXml;
    },
    remember(messageId, receiptXml, until) {
      entries.delete(messageId);
      entries.set(messageId, { receiptXml, until: until.getTime() });
      // Map keeps insertion order: the first key is the oldest receipt.
      while (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    },
  };
}
