import { describe, expect, it } from 'vitest';
import { sampleMessage } from '../../../test/interop/as4-helpers.js';
import { buildUserMessageEnvelope } from './envelope-build.js';
import { parseEnvelope } from './envelope-parse.js';
import { buildErrorSignal } from './signals.js';
import { ebmsErrors } from '../model/ebms-errors.js';
import { serializeXml } from '../../xml/index.js';

const att = [{ contentId: 'payload-1@qerds', contentType: 'application/xml', body: Buffer.from('<a/>') }];

describe('ebMS envelope', () => {
  it('builds a UserMessage that parses back to the same model', () => {
    const msg = sampleMessage('m1@qerds', att);
    const xml = serializeXml(buildUserMessageEnvelope(msg));
    expect(xml).toContain('eb:Messaging');
    expect(xml).toMatch(/env:mustUnderstand="true"/);
    const parsed = parseEnvelope(xml);
    expect(parsed.kind).toBe('user');
    if (parsed.kind !== 'user') return;
    expect(parsed.message).toEqual(msg);
  });

  it('keeps the ebMS error table as data', () => {
    expect(ebmsErrors.size).toBe(19);
    expect(ebmsErrors.get('EBMS:0101')).toMatchObject({
      shortDescription: 'FailedAuthentication',
      severity: 'failure',
      category: 'Processing',
      origin: 'security',
    });
    expect(ebmsErrors.get('EBMS:0006')?.severity).toBe('warning');
  });

  it('parses an error signal', () => {
    const parsed = parseEnvelope(buildErrorSignal('m1@qerds', 'EBMS:0103', 'unsigned'));
    expect(parsed.kind).toBe('error');
    if (parsed.kind !== 'error') return;
    expect(parsed.errors[0]).toMatchObject({
      errorCode: 'EBMS:0103',
      refToMessageInError: 'm1@qerds',
      errorDetail: 'unsigned',
      shortDescription: 'PolicyNoncompliance',
    });
  });

  const good = serializeXml(buildUserMessageEnvelope(sampleMessage('m1@qerds', att)));
  it.each([
    ['not XML', '<env:Envelope'],
    ['a DTD', `<!DOCTYPE x [<!ENTITY a "b">]>${good}`],
    ['a processing instruction', good.replace('<env:Header>', '<env:Header><?pi x?>')],
    ['no mustUnderstand', good.replace(/ env:mustUnderstand="true"/, '')],
    [
      'a second eb:Messaging in another header',
      good.replace(
        '<env:Header>',
        '<env:Header><w:Wrap xmlns:w="urn:w"><eb:Messaging xmlns:eb="http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/"/></w:Wrap>',
      ),
    ],
    ['no MessageId', good.replace(/<eb:MessageId>[^<]*<\/eb:MessageId>/, '')],
    ['a bad Timestamp', good.replace(/<eb:Timestamp>[^<]*</, '<eb:Timestamp>yesterday<')],
    [
      'a Body before the Header',
      good.replace(/<env:Header>([\s\S]*)<\/env:Header>(<env:Body[^>]*\/>)/, '$2<env:Header>$1</env:Header>'),
    ],
    ['an unknown SOAP namespace', good.replace('http://www.w3.org/2003/05/soap-envelope', 'urn:not-soap')],
  ])('refuses an envelope with %s (AS4_EBMS_0009)', (_what, xml) => {
    expect(() => parseEnvelope(xml)).toThrow(expect.objectContaining({ code: 'AS4_EBMS_0009' }));
  });

  it('refuses an untyped PartyId that is not a URI (AS4_EBMS_0003)', () => {
    const xml = good.replace(/<eb:PartyId type="[^"]*">ap-c2</, '<eb:PartyId>ap-c2<');
    expect(() => parseEnvelope(xml)).toThrow(expect.objectContaining({ code: 'AS4_EBMS_0003' }));
  });
});
