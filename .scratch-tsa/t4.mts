import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { encodeTimestampRequest } from '../src/timestamp/request.ts';
const r = encodeTimestampRequest({ algorithm: 'sha256', digest: createHash('sha256').update('x').digest() }, { certReq: true, policy: '1.3.6.1.4.1.32473.1.1' });
writeFileSync('/tmp/scratch/req.tsq', r.der); console.log(r.nonce.toString(16));
const r2 = encodeTimestampRequest({ algorithm: 'sha512', digest: createHash('sha512').update('x').digest() }, { nonce: 0xffn });
writeFileSync('/tmp/scratch/req2.tsq', r2.der);
