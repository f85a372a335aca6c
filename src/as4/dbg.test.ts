import { it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { sharedTestPki } from '../../test/helpers/pki.js';
import { sampleMessage, sealIdentity } from '../../test/interop/as4-helpers.js';
import { buildUserMessageEnvelope } from './envelope-build.js';
import { buildReceipt } from './signals.js';
import { signEnvelope } from './ws-security-sign.js';
import { verifyEnvelope } from './ws-security-verify.js';
import { parseXml, serializeXml } from './xml-util.js';
it('dbg', () => {
  const pki = sharedTestPki();
  const c2 = sealIdentity(pki, 'c2'); const c3 = sealIdentity(pki, 'c3');
  const doc = buildUserMessageEnvelope(sampleMessage('m1@qerds', []));
  signEnvelope(doc, [], c2);
  const v = verifyEnvelope(parseXml(serializeXml(doc)), [], { expectedCertificate: c2.certificate });
  writeFileSync('/tmp/as4-receipt.xml', serializeXml(buildReceipt(doc, v.references, c3)));
  writeFileSync('/tmp/as4-pki', pki.dir);
});
