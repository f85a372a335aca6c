import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCrls } from './crl.js';
import { type DevPkiLayout } from './index.js';
import { certificateFrom, memoByContent } from './parse-cache.js';
import { devTestPki } from '../../test/helpers/pki.js';

let root: string;
let layout: DevPkiLayout;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'qerds-parse-cache-'));
  layout = await devTestPki(join(root, 'pki'), { recipients: [] });
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('memoByContent', () => {
  it('parses each distinct content once, tells a string from the same bytes, and evicts the least recently used', () => {
    const calls: string[] = [];
    const parse = memoByContent((data: Uint8Array | string) => {
      calls.push(typeof data === 'string' ? `s:${data}` : `b:${Buffer.from(data).toString()}`);
      return { data };
    }, 2);
    const a = parse('a');
    expect(parse('a')).toBe(a);
    expect(parse(Buffer.from('a'))).not.toBe(a); // same octets, other kind of input: another entry
    expect(calls).toEqual(['s:a', 'b:a']);
    parse('a'); // now the most recently used
    parse('b'); // evicts Buffer 'a'
    parse('a');
    parse(Buffer.from('a'));
    expect(calls).toEqual(['s:a', 'b:a', 's:b', 'b:a']);
  });

  it('does not keep a failed parse: the next call with the same input parses (and fails) again', () => {
    let calls = 0;
    const parse = memoByContent((data: string) => {
      calls++;
      throw new Error(`bad ${data}`);
    });
    expect(() => parse('x')).toThrow('bad x');
    expect(() => parse('x')).toThrow('bad x');
    expect(calls).toBe(2);
  });
});

describe('certificateFrom', () => {
  it('returns the same certificate object for the same bytes, a different one for a different certificate', () => {
    const der = new X509Certificate(readFileSync(layout.ap('c2').sealCert)).raw;
    const first = certificateFrom(der);
    expect(first.fingerprint256).toBe(new X509Certificate(der).fingerprint256);
    expect(certificateFrom(Buffer.from(der))).toBe(first);
    const other = certificateFrom(new X509Certificate(readFileSync(layout.ap('c3').sealCert)).raw);
    expect(other).not.toBe(first);
    expect(other.fingerprint256).not.toBe(first.fingerprint256);
  });

  it('refuses what is not a certificate, as new X509Certificate does, also after a good parse of a near copy', () => {
    const der = new X509Certificate(readFileSync(layout.ap('c2').sealCert)).raw;
    certificateFrom(der);
    const flipped = Buffer.from(der);
    flipped[flipped.length - 1] = flipped[flipped.length - 1]! ^ 0xff; // signature bit flipped: still parses, but is other content
    expect(certificateFrom(flipped)).not.toBe(certificateFrom(der));
    expect(() => certificateFrom(der.subarray(0, 100))).toThrow();
  });
});

describe('parseCrls', () => {
  it('parses the same CRL once: the same ParsedCrl object, so its signature check is done once per issuer', () => {
    const pem = readFileSync(layout.caCrl, 'utf8');
    const [first] = parseCrls(pem);
    const [again] = parseCrls(pem);
    expect(again).toBe(first);
    const ca = new X509Certificate(readFileSync(layout.caCert));
    expect(first!.isSignedBy(ca)).toBe(true);
  });
});
