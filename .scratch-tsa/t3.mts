import { AsnConvert } from '@peculiar/asn1-schema';
import * as tsp from '@peculiar/asn1-tsp';
for (const d of ['2026-01-02T03:04:05.500Z','2026-01-02T03:04:05.000Z','2026-01-02T03:04:05.050Z']) {
const t = new tsp.TSTInfo({ policy: '1.2.3', messageImprint: new tsp.MessageImprint(), serialNumber: new Uint8Array([1]).buffer, genTime: new Date(d) });
const der = Buffer.from(AsnConvert.serialize(t));
console.log(der.toString('latin1').match(/2026[0-9.]*Z/)?.[0], AsnConvert.parse(der, tsp.TSTInfo).genTime.toISOString());
}
