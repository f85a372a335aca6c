#!/usr/bin/env bash
# Builds a small PKI with the openssl CLI alone, in the layout of `qerds pki init` (src/pki/layout.ts).
# Tests use it as an *independent* PKI: certificates our code did not make. Dev/test keys only.
# usage: openssl-pki.sh DIR [CN-PREFIX]
set -euo pipefail
dir=$1; prefix=${2:-Test}
mkdir -p "$dir"/{ca,tsa,c2,c3,recipients}
cd "$dir"
cat > ext.cnf <<CNF
[x_ca]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
[x_seal]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,nonRepudiation
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[x_tsa]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,nonRepudiation
extendedKeyUsage=critical,timeStamping
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[x_tls]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=DNS:localhost,IP:127.0.0.1
[x_enc]
basicConstraints=critical,CA:FALSE
keyUsage=critical,keyEncipherment,dataEncipherment
[x_apenc]
basicConstraints=critical,CA:FALSE
keyUsage=critical,keyEncipherment
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
CNF
key() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }
key ca/ca.key.pem
openssl req -x509 -new -key ca/ca.key.pem -subj "/C=JP/O=$prefix Dev/CN=$prefix Dev Root CA" -days 3650 \
  -sha256 -extensions x_ca -config <(cat /etc/ssl/openssl.cnf ext.cnf) -out ca/ca.crt.pem
issue() { # name keyfile ext certfile [organizationIdentifier]
  key "$2"
  openssl req -new -key "$2" -subj "/C=JP/O=$prefix Dev${5:+/organizationIdentifier=$5}/CN=$1" -out tmp.csr
  openssl x509 -req -in tmp.csr -CA ca/ca.crt.pem -CAkey ca/ca.key.pem -CAcreateserial -days 825 -sha256 \
    -extfile ext.cnf -extensions "x_$3" -out "$4" 2>/dev/null
}
issue "$prefix TSA" tsa/tsa.key.pem tsa tsa/tsa.crt.pem
for ap in c2 c3; do
  # The AP id in organizationIdentifier, as `qerds pki init` writes it (src/pki/dev-ap-id.ts devApId).
  issue "$prefix AP $ap e-seal" $ap/seal.key.pem seal $ap/seal.crt.pem "urn:qerds-ap:ap:$ap"
  issue "localhost" $ap/tls.key.pem tls $ap/tls.crt.pem
  issue "$prefix AP $ap AS4 encryption" $ap/enc.key.pem apenc $ap/enc.crt.pem
done
issue "$prefix recipient alice" recipients/alice.key.pem enc recipients/alice.crt.pem
issue "$prefix recipient bob" recipients/bob.key.pem enc recipients/bob.crt.pem
# An empty CRL (a minimal CA database is needed by `openssl ca -gencrl`).
mkdir -p db; : > db/index.txt; echo 01 > db/crlnumber
cat > ca.cnf <<CNF
[ca]
default_ca=dev
[dev]
database=db/index.txt
crlnumber=db/crlnumber
default_md=sha256
default_crl_days=30
CNF
openssl ca -gencrl -config ca.cnf -keyfile ca/ca.key.pem -cert ca/ca.crt.pem -out ca/ca.crl.pem 2>/dev/null
rm -f tmp.csr ca/ca.crt.srl
