import { Option } from 'commander';
import { pino, type Logger } from 'pino';

/** `json`: one JSON object per line (for a log shipper); `pretty`: one readable line per record (for a person). */
export type LogFormat = 'json' | 'pretty';

/** The `--log-format` option of the long-running commands: `auto` is pretty on a terminal, JSON otherwise. */
export function logFormatOption(): Option {
  return new Option(
    '--log-format <format>',
    'log lines as json, pretty, or auto: pretty on a terminal, json otherwise (env QERDS_LOG_FORMAT)',
  )
    .choices(['auto', 'json', 'pretty'])
    .default(process.env.QERDS_LOG_FORMAT ?? 'auto');
}

export function resolveLogFormat(option: string, isTty: boolean): LogFormat {
  return option === 'json' || option === 'pretty' ? option : isTty ? 'pretty' : 'json';
}

interface Sink {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/**
 * The logger of `qerds start` / `qerds worker`: pino at `level` with the AP's id on every line, written to
 * `out` (stdout) as JSON or, for a person, through prettyLine().
 */
export function createCliLogger(options: {
  level: string;
  format: LogFormat;
  ap: string;
  out?: Sink;
}): Logger {
  const out = options.out ?? process.stdout;
  const base = { ap: options.ap };
  if (options.format === 'json')
    return pino({ level: options.level, base }, { write: (text: string) => void out.write(text) });
  const colour = out.isTTY === true && !process.env.NO_COLOR;
  return pino(
    { level: options.level, base },
    {
      write: (text: string) =>
        void out.write(`${prettyLine(JSON.parse(text) as Record<string, unknown>, { colour })}\n`),
    },
  );
}

const levelNames: Readonly<Record<number, string>> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const levelColours: Readonly<Record<number, string>> = {
  10: '90',
  20: '90',
  30: '32',
  40: '33',
  50: '31',
  60: '35',
};
/** Fields every line has or that say nothing to a reader of one process's output. */
const hidden = new Set(['time', 'level', 'msg', 'pid', 'hostname', 'v']);

/**
 * One pino record as one line: `08:41:07.123 INFO  access point started url=http://… queue=in-process`.
 * Values that hold spaces, quotes or line breaks are JSON-quoted, so a record is always exactly one line
 * (threat: a value with a newline forging a second log line); an error shows its type and message (its
 * stack only with QERDS_DEBUG=1, on the same line, escaped).
 */
export function prettyLine(record: Record<string, unknown>, options: { colour?: boolean } = {}): string {
  const level = typeof record.level === 'number' ? record.level : 30;
  const name = (levelNames[level] ?? String(level)).padEnd(5);
  const time = typeof record.time === 'number' ? new Date(record.time).toISOString().slice(11, 23) : '';
  const fields = Object.entries(record)
    .filter(([key, value]) => !hidden.has(key) && value !== undefined)
    .map(([key, value]) => `${key}=${fieldValue(key, value)}`);
  const msg = typeof record.msg === 'string' ? quoteIfNeeded(record.msg, false) : '';
  const label = options.colour ? `\x1b[${levelColours[level] ?? '0'}m${name}\x1b[0m` : name;
  return [time, label, msg, ...fields].filter((part) => part !== '').join(' ');
}

function fieldValue(key: string, value: unknown): string {
  if ((key === 'err' || key === 'error') && value && typeof value === 'object') {
    const err = value as { type?: string; message?: string; stack?: string; code?: string };
    const text = `${err.type ?? 'Error'}${err.code ? ` ${err.code}` : ''}: ${err.message ?? ''}`;
    return quoteIfNeeded(process.env.QERDS_DEBUG && err.stack ? `${text} | ${err.stack}` : text, true);
  }
  if (typeof value === 'string') return quoteIfNeeded(value, true);
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** As it is when it is one plain token; JSON-quoted (escapes included) otherwise. */
function quoteIfNeeded(text: string, isValue: boolean): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what must not pass unescaped
  const plain = isValue ? /^[^\s"\\\x00-\x1f\x7f]+$/ : /^[^"\\\x00-\x1f\x7f]+$/;
  return plain.test(text) ? text : JSON.stringify(text);
}
