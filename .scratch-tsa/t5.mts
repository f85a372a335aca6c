import { readFileSync, writeFileSync } from 'node:fs';
import { loadSigningIdentity } from '../src/pki/index.ts';
import { createTimestampAuthority } from '../src/timestamp/authority.ts';
const tsa = createTimestampAuthority({ identity: loadSigningIdentity('/tmp/devpki1/tsa/tsa.crt.pem', '/tmp/devpki1/tsa/tsa.key.pem') });
writeFileSync('/tmp/scratch/resp.tsr', await tsa.respond(readFileSync('/tmp/scratch/req.tsq')));
writeFileSync('/tmp/scratch/resp2.tsr', await tsa.respond(readFileSync('/tmp/scratch/req2.tsq')));
writeFileSync('/tmp/scratch/bad.tsr', await tsa.respond(Buffer.from('garbage')));
