/**
 * Group commit for sends to one destination: callers each hand over one item and wait for its outcome;
 * items that arrive while earlier sends to the same key are in flight travel together in the next send.
 *
 * Why: returning evidence to the sender's AP costs one signed, encrypted AS4 exchange per message, and the
 * exchange (sign, encrypt, receipt, verify) costs far more than the evidence it carries. Under load many
 * notify jobs for the same AP run at once; here they share exchanges. At low load nothing waits: an item
 * meets an idle key and leaves at the next turn of the event loop (alone, or with what arrived in that turn).
 *
 * Each item's promise settles with the outcome of the send that carried it. When a send of several fails in a
 * way one item could have caused (`retryAlone`, e.g. the receiver refused the message), each item is sent again
 * on its own at once, so that one item the receiver refuses does not fail the others with it. Any other failure
 * (the receiver is unreachable) fails every item of the send, and the callers retry later.
 */
export interface GroupSenderOptions<T, R> {
  /** Sends one group (one to `maxItems` items, all of one key). */
  readonly send: (key: string, items: readonly T[]) => Promise<R>;
  /** Most items per send. @defaultValue 64 */
  readonly maxItems?: number;
  /** Most bytes per send, by `sizeOf` (a single larger item still goes, alone). @defaultValue no limit */
  readonly maxBytes?: number;
  readonly sizeOf?: (item: T) => number;
  /** Sends in flight at once per key; further items wait and join the next one. @defaultValue 2 */
  readonly maxInFlight?: number;
  /** Whether a failed send of several items is sent again item by item. @defaultValue never */
  readonly retryAlone?: (error: unknown) => boolean;
}

export type GroupSend<T, R> = (key: string, item: T) => Promise<R>;

interface Waiting<T, R> {
  readonly item: T;
  readonly resolve: (result: R) => void;
  readonly reject: (error: unknown) => void;
}

interface KeyState<T, R> {
  readonly waiting: Waiting<T, R>[];
  inFlight: number;
  scheduled: boolean;
}

export function createGroupSender<T, R>(options: GroupSenderOptions<T, R>): GroupSend<T, R> {
  const maxItems = options.maxItems ?? 64;
  const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
  const sizeOf = options.sizeOf ?? (() => 0);
  const maxInFlight = options.maxInFlight ?? 2;
  const keys = new Map<string, KeyState<T, R>>();

  const sendGroup = async (key: string, group: readonly Waiting<T, R>[]): Promise<void> => {
    try {
      const result = await options.send(
        key,
        group.map((w) => w.item),
      );
      for (const w of group) w.resolve(result);
    } catch (error) {
      if (group.length > 1 && options.retryAlone?.(error)) {
        await Promise.all(group.map((w) => sendGroup(key, [w])));
        return;
      }
      for (const w of group) w.reject(error);
    }
  };

  const pump = (key: string): void => {
    const state = keys.get(key);
    if (!state) return;
    state.scheduled = false;
    while (state.inFlight < maxInFlight && state.waiting.length > 0) {
      const group: Waiting<T, R>[] = [];
      let bytes = 0;
      while (state.waiting.length > 0 && group.length < maxItems) {
        const size = sizeOf(state.waiting[0]!.item);
        if (group.length > 0 && bytes + size > maxBytes) break;
        group.push(state.waiting.shift()!);
        bytes += size;
      }
      state.inFlight += 1;
      void sendGroup(key, group).finally(() => {
        state.inFlight -= 1;
        if (state.waiting.length > 0) pump(key);
        else if (state.inFlight === 0) keys.delete(key);
      });
    }
  };

  return (key, item) =>
    new Promise<R>((resolve, reject) => {
      let state = keys.get(key);
      if (!state) {
        state = { waiting: [], inFlight: 0, scheduled: false };
        keys.set(key, state);
      }
      state.waiting.push({ item, resolve, reject });
      // Gather what arrives in this turn of the event loop before the first send; later arrivals wait
      // for a free slot (a send finishing pumps the key again).
      if (!state.scheduled && state.inFlight < maxInFlight) {
        state.scheduled = true;
        setImmediate(() => pump(key));
      }
    });
}
