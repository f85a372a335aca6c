/** A minimal message as a store test inserts it: sender AP side, submitted now, no parts. */
export function storedMessage(id: string) {
  return {
    id,
    ebmsMessageId: `${id}@test`,
    role: 'sender-ap' as const,
    state: 'submitted' as const,
    sender: { scheme: '0188', value: '1' },
    recipient: { scheme: '0188', value: '2' },
    parts: [],
    submittedAt: new Date(),
  };
}
