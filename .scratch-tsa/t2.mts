import { AsnConvert } from '@peculiar/asn1-schema';
import * as tsp from '@peculiar/asn1-tsp';
import { Certificate } from '@peculiar/asn1-x509';
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
for (const f of [tsp.PKIFailureInfoFlags.badAlg, tsp.PKIFailureInfoFlags.badDataFormat, tsp.PKIFailureInfoFlags.unacceptedPolicy, tsp.PKIFailureInfoFlags.unacceptedExtension, tsp.PKIFailureInfoFlags.systemFailure]) {
  const b = new tsp.PKIFailureInfo(f);
  console.log(f, Buffer.from(AsnConvert.serialize(b)).toString('hex'), b.toJSON());
}
const t = new tsp.TSTInfo({ policy: '1.2.3', messageImprint: new tsp.MessageImprint(), serialNumber: new Uint8Array([1]).buffer, genTime: new Date('2026-01-02T03:04:05.678Z') });
console.log(Buffer.from(AsnConvert.serialize(t)).toString('hex'));
const raw = new X509Certificate(readFileSync('/tmp/devpki1/tsa/tsa.crt.pem')).raw;
console.log(Buffer.from(AsnConvert.serialize(AsnConvert.parse(raw, Certificate))).equals(raw));
