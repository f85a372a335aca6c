import type { Command } from 'commander';

/**
 * The CLI's command modules, loaded on demand: each one's imports reach most of the code base (express,
 * the store, XML and ASN.1 libraries), so `qerds --help` or `qerds verify` loading all of them took seconds.
 * `descriptions` is what the top-level help lists for a module's commands without loading it; it must be the
 * text the module registers (test/cli/lazy-commands.test.ts compares them). A new command module goes here.
 */
export interface LazyCommandModule {
  /** Top-level command names the module registers, each with its one-line description. */
  readonly descriptions: Readonly<Record<string, string>>;
  readonly names: readonly string[];
  readonly load: () => Promise<(program: Command) => void>;
}

function lazy(descriptions: Record<string, string>, load: () => Promise<(program: Command) => void>): LazyCommandModule {
  return { descriptions, names: Object.keys(descriptions), load };
}

export const lazyCommands: readonly LazyCommandModule[] = [
  lazy({ start: 'run an access point (API, AS4 endpoint, pipeline workers) until SIGINT/SIGTERM' }, async () => (await import('./start-command.js')).registerStart),
  lazy({ demo: 'two APs (C2, C3) and a TSA on loopback: send a UBL invoice, hand it over, verify the evidence chain' }, async () => (await import('./demo-command.js')).registerDemo),
  lazy({ pki: 'keys and certificates' }, async () => (await import('./pki-command.js')).registerPki),
  lazy({ send: 'submit a document to an access point (C1 → C2) over the REST API' }, async () => (await import('./send-command.js')).registerSend),
  lazy(
    {
      verify:
        'verify a sealed evidence, an evidence chain (qerds export directory or bundle.json), an RFC 3161 timestamp, a CMS/CAdES signature, a trusted list, a REM message or an AS4 capture offline; exit 0 valid, 1 not valid (FAILED or INDETERMINATE), 2 no verdict (file missing, bad option, unknown kind)',
    },
    async () => (await import('./verify-command.js')).registerVerify,
  ),
  lazy({ lookup: 'check before sending: is the recipient reachable, by which AP, and is that AP trusted (exit 0 only when reachable)' }, async () => (await import('./lookup-command.js')).registerLookup),
  lazy({ worker: 'run pipeline workers only (no HTTP), taking jobs from the BullMQ queues, until SIGINT/SIGTERM' }, async () => (await import('./worker-command.js')).registerWorker),
  lazy({ db: 'database maintenance' }, async () => (await import('./db-command.js')).registerDb),
  lazy({ 'dead-letters': 'jobs whose stage gave up (retry budget spent): list and replay' }, async () => (await import('./dead-letters-command.js')).registerDeadLetters),
  lazy(
    {
      encrypt: 'encrypt a file for one or more recipient certificates (CMS AuthEnvelopedData, AES-256-GCM, DER)',
      decrypt: 'decrypt a CMS AuthEnvelopedData file as the recipient; writes nothing unless the tag verifies',
    },
    async () => (await import('./crypto-command.js')).registerCrypto,
  ),
  lazy({ export: 'write the evidence of a message with what is needed to verify it offline (verify with: qerds verify <dir>)' }, async () => (await import('./export-command.js')).registerExport),
  lazy({ archive: 'the evidence archive: keep evidence verifiable for its retention period' }, async () => (await import('./archive-command.js')).registerArchive),
];

/**
 * The command an argument list runs: its first word (the program has no options taking a value), or for
 * `help <command>` the command asked about. Undefined for `--help`, `--version` or no command.
 */
export function commandFor(args: readonly string[]): string | undefined {
  const words = args.filter((a) => !a.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}
