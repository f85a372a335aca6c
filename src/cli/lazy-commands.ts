import type { Command } from 'commander';

/**
 * The CLI's command modules, loaded on demand: each one's imports reach most of the code base (express,
 * the store, XML and ASN.1 libraries), so `qerds --help` or `qerds verify` loading all of them took seconds.
 * `descriptions` is what the top-level help lists for a module's commands without loading it; it must be the
 * text the module registers (test/cli/lazy-commands.test.ts compares them). A new command module goes here.
 */
export interface LazyCommandModule {
  /** The module, relative to this file (`./verify-command.js`); every `src/cli/*-command.ts` has an entry. */
  readonly module: string;
  /** Top-level command names the module registers, each with its one-line description. */
  readonly descriptions: Readonly<Record<string, string>>;
  readonly names: readonly string[];
  /** The module's register function (its export `register`…), loaded. */
  readonly load: () => Promise<(program: Command) => void>;
}

function lazy(module: string, register: string, descriptions: Record<string, string>): LazyCommandModule {
  const load = async () => {
    const loaded = (await import(module)) as Record<string, unknown>;
    const fn = loaded[register];
    if (typeof fn !== 'function') throw new Error(`${module} exports no ${register}`);
    return fn as (program: Command) => void;
  };
  return { module, descriptions, names: Object.keys(descriptions), load };
}

export const lazyCommands: readonly LazyCommandModule[] = [
  lazy('./start-command.js', 'registerStart', {
    start: 'run an access point (API, AS4 endpoint, pipeline workers) until SIGINT/SIGTERM',
  }),
  lazy('./demo-command.js', 'registerDemo', {
    demo: 'two APs (C2, C3) and a TSA on loopback: send a UBL invoice, hand it over, verify the evidence chain',
  }),
  lazy('./pki-command.js', 'registerPki', { pki: 'keys and certificates' }),
  lazy('./send-command.js', 'registerSend', {
    send: 'submit a document to an access point (C1 → C2) over the REST API',
  }),
  lazy('./status-command.js', 'registerStatus', {
    status: 'show the state and the evidence chain of a message you sent or receive (REST API)',
  }),
  lazy('./inbox-command.js', 'registerInbox', {
    inbox: "list the recipient's inbox at its access point (REST API), newest first",
  }),
  lazy('./pickup-command.js', 'registerPickup', {
    pickup: 'download the content of a message in your inbox (REST API); the AP records the handover',
  }),
  lazy('./verify-command.js', 'registerVerify', {
    verify:
      'verify a sealed evidence, an evidence chain (qerds export directory or bundle.json), an RFC 3161 timestamp, a CMS/CAdES signature, a trusted list, a REM message or an AS4 capture offline; exit 0 valid, 1 not valid (FAILED or INDETERMINATE), 2 no verdict (file missing, bad option, unknown kind)',
  }),
  lazy('./lookup-command.js', 'registerLookup', {
    lookup:
      'check before sending: is the recipient reachable, by which AP, and is that AP trusted (exit 0 only when reachable)',
  }),
  lazy('./worker-command.js', 'registerWorker', {
    worker: 'run pipeline workers only (no HTTP), taking jobs from the BullMQ queues, until SIGINT/SIGTERM',
  }),
  lazy('./db-command.js', 'registerDb', { db: 'database maintenance' }),
  lazy('./dead-letters-command.js', 'registerDeadLetters', {
    'dead-letters': 'jobs whose stage gave up (retry budget spent): list and replay',
  }),
  lazy('./crypto-command.js', 'registerCrypto', {
    encrypt:
      'encrypt a file for one or more recipient certificates (CMS AuthEnvelopedData, AES-256-GCM, DER)',
    decrypt: 'decrypt a CMS AuthEnvelopedData file as the recipient; writes nothing unless the tag verifies',
  }),
  lazy('./export-command.js', 'registerExport', {
    export:
      'write the evidence of a message with what is needed to verify it offline (verify with: qerds verify <dir>)',
  }),
  lazy('./peppol-report-command.js', 'registerPeppolReport', {
    'peppol-report':
      'write the monthly Peppol Transaction Statistics (tsr) or End User Statistics (eusr) report from the store',
  }),
  lazy('./archive-command.js', 'registerArchive', {
    archive: 'the evidence archive: keep evidence verifiable for its retention period',
  }),
];

/**
 * The command an argument list runs: its first word (the program has no options taking a value), or for
 * `help <command>` the command asked about. Undefined for `--help`, `--version` or no command.
 */
export function commandFor(args: readonly string[]): string | undefined {
  const words = args.filter((a) => !a.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}
