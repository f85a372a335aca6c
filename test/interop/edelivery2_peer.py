#!/usr/bin/env python3
"""An independent eDelivery AS4 2.0 receiver, for interop tests of qerds-ap.

Written from the specifications (XML-Enc 1.1 AgreementMethod/KeyDerivationMethod, RFC 8032 Ed25519, RFC 7748
X25519, RFC 5869 HKDF, RFC 3394 AES key wrap, SwA profile 1.1.1, W3C Exclusive C14N 1.0) with Python's standard
library (email, xml.dom.minidom) and `cryptography` (pyca) only: no code or library shared with qerds-ap.

usage: edelivery2_peer.py open <mime-file> <content-type> <x25519-key.pem> <ed25519-signer-cert.pem> <out-dir>
       edelivery2_peer.py build <ed25519-key.pem> <ed25519-cert.pem> <x25519-recipient-cert.pem> <message-id> <out-dir> <file>...

open: prints a JSON report: signature valid, each ds:Reference's digest recomputed, each attachment decrypted (its
plaintext written to <out-dir>/<content-id>). Exit status 0 only when everything verified.
build: writes <out-dir>/message.mime and <out-dir>/content-type: a signed (Ed25519) and encrypted (X25519 + HKDF +
kw-aes128, AES-128-GCM) AS4 2.0 UserMessage carrying each <file> as application/octet-stream, made from scratch here.
"""
import base64
import email
import email.policy
import hashlib
import json
import os
import sys
from xml.dom import minidom, Node

from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap

DS = 'http://www.w3.org/2000/09/xmldsig#'
XENC = 'http://www.w3.org/2001/04/xmlenc#'
DSIG11 = 'http://www.w3.org/2009/xmldsig11#'
DSIG_MORE = 'http://www.w3.org/2021/04/xmldsig-more#'
WSU = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd'
XMLNS = 'http://www.w3.org/2000/xmlns/'
EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#'
ED25519 = DSIG_MORE + 'eddsa-ed25519'
X25519 = DSIG_MORE + 'x25519'
HKDF_URI = DSIG_MORE + 'hkdf'
KW_AES128 = XENC + 'kw-aes128'
AES128_GCM = 'http://www.w3.org/2009/xmlenc11#aes128-gcm'
SHA256 = XENC + 'sha256'
SWA_CONTENT = 'http://docs.oasis-open.org/wss/oasis-wss-SwAProfile-1.1#Attachment-Content-Signature-Transform'


# --- Exclusive XML Canonicalization 1.0 (without comments), for element subtrees -----------------------------

def _esc_text(s):
    return s.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;').replace('\r', '&#xD;')


def _esc_attr(s):
    return (s.replace('&', '&amp;').replace('<', '&lt;').replace('"', '&quot;')
            .replace('\t', '&#x9;').replace('\n', '&#xA;').replace('\r', '&#xD;'))


def _in_scope(el, prefix):
    """The namespace URI bound to `prefix` at `el` ('' for an unbound default)."""
    node = el
    name = 'xmlns:' + prefix if prefix else 'xmlns'
    while node is not None and node.nodeType == Node.ELEMENT_NODE:
        if node.hasAttribute(name):
            return node.getAttribute(name)
        node = node.parentNode
    return '' if not prefix else None


def exc_c14n(el, inclusive_prefixes=(), rendered=None):
    """Exclusive C14N of the subtree at `el`: visibly utilized namespaces only, sorted; attributes sorted."""
    rendered = dict(rendered or {})
    needed = {}
    needed[el.prefix or ''] = el.namespaceURI or ''
    attrs = []
    for i in range(el.attributes.length):
        a = el.attributes.item(i)
        if a.namespaceURI == XMLNS or a.name == 'xmlns' or a.name.startswith('xmlns:'):
            continue
        if a.prefix:
            needed[a.prefix] = a.namespaceURI
        attrs.append(a)
    for p in inclusive_prefixes:
        key = '' if p == '#default' else p
        uri = _in_scope(el, key)
        if uri is not None:
            needed.setdefault(key, uri)
    decls = []
    for prefix in sorted(needed):
        uri = needed[prefix]
        if prefix == '' and uri == '' and rendered.get('', '') == '':
            continue
        if rendered.get(prefix) != uri:
            decls.append((prefix, uri))
            rendered[prefix] = uri
    out = ['<', el.tagName]
    for prefix, uri in decls:
        out.append(' xmlns%s="%s"' % (':' + prefix if prefix else '', _esc_attr(uri)))
    for a in sorted(attrs, key=lambda a: (a.namespaceURI or '', a.localName)):
        out.append(' %s="%s"' % (a.name, _esc_attr(a.value)))
    out.append('>')
    for child in el.childNodes:
        if child.nodeType == Node.ELEMENT_NODE:
            out.append(exc_c14n(child, inclusive_prefixes, rendered))
        elif child.nodeType in (Node.TEXT_NODE, Node.CDATA_SECTION_NODE):
            out.append(_esc_text(child.data))
    out.append('</%s>' % el.tagName)
    return ''.join(out)


# --- helpers ------------------------------------------------------------------------------------------------

def elements(node, ns, local):
    return [e for e in node.getElementsByTagNameNS(ns, local)]


def one(node, ns, local):
    found = elements(node, ns, local)
    if len(found) != 1:
        raise ValueError('expected exactly one %s, found %d' % (local, len(found)))
    return found[0]


def text(el):
    return ''.join(c.data for c in el.childNodes if c.nodeType == Node.TEXT_NODE).strip()


def by_id(doc, ident):
    hits = [e for e in doc.getElementsByTagName('*') if e.getAttributeNS(WSU, 'Id') == ident or e.getAttribute('Id') == ident]
    if len(hits) != 1:
        raise ValueError('Id %s found %d times' % (ident, len(hits)))  # duplicate Ids: a wrapping attempt
    return hits[0]


def canonical_content(content_type, body):
    """SwA 1.1.1 §5.4: the attachment content octets a Attachment-Content-Signature-Transform digests."""
    media = content_type.split(';')[0].strip().lower()
    if media in ('text/xml', 'application/xml') or media.endswith('+xml'):
        return exc_c14n(minidom.parseString(body).documentElement).encode('utf-8')
    if media.startswith('text/'):
        return body.replace(b'\r\n', b'\n').replace(b'\r', b'\n').replace(b'\n', b'\r\n')
    return body


def read_mime(path, content_type):
    raw = open(path, 'rb').read()
    msg = email.message_from_bytes(b'Content-Type: ' + content_type.encode() + b'\r\nMIME-Version: 1.0\r\n\r\n' + raw, policy=email.policy.HTTP)
    parts = list(msg.iter_parts())
    envelope = parts[0].get_payload(decode=True)
    attachments = {}
    for part in parts[1:]:
        cid = part['Content-ID'].strip().lstrip('<').rstrip('>')
        attachments[cid] = {'type': part.get_content_type(), 'body': part.get_payload(decode=True)}
    return envelope, attachments


# --- the receiver --------------------------------------------------------------------------------------------

def open_message(mime_file, content_type, key_file, cert_file, out_dir):
    report = {'decrypted': {}, 'references': {}}
    envelope, attachments = read_mime(mime_file, content_type)
    doc = minidom.parseString(envelope)

    # 1. Key agreement: X25519 with the ephemeral key, HKDF-SHA256, AES-128 key unwrap (XML-Enc 1.1 §5.6, RFC 8418 style).
    ek = one(doc, XENC, 'EncryptedKey')
    assert one(ek, XENC, 'EncryptionMethod').getAttribute('Algorithm') == KW_AES128
    am = one(ek, XENC, 'AgreementMethod')
    assert am.getAttribute('Algorithm') == X25519
    kdm = one(am, 'http://www.w3.org/2009/xmlenc11#', 'KeyDerivationMethod')
    assert kdm.getAttribute('Algorithm') == HKDF_URI
    salt = base64.b64decode(text(one(kdm, DSIG_MORE, 'Salt')))
    infos = elements(kdm, DSIG_MORE, 'Info')
    info = base64.b64decode(text(infos[0])) if infos else b''
    key_length = int(text(one(kdm, DSIG_MORE, 'KeyLength')))
    ephemeral = serialization.load_der_public_key(base64.b64decode(text(one(one(am, XENC, 'OriginatorKeyInfo'), DSIG11, 'DEREncodedKeyValue'))))
    private = serialization.load_pem_private_key(open(key_file, 'rb').read(), password=None)
    shared = private.exchange(ephemeral)
    kek = HKDF(algorithm=hashes.SHA256(), length=key_length, salt=salt, info=info).derive(shared)
    wrapped = base64.b64decode(text(one(ek, XENC, 'CipherValue')))
    cek = aes_key_unwrap(kek, wrapped)
    report['keyAgreement'] = {'x25519': True, 'hkdfSaltBytes': len(salt), 'kekBytes': len(kek), 'cekBytes': len(cek)}

    # 2. Each encrypted attachment: AES-128-GCM, IV (12) ‖ ciphertext ‖ tag (16) (XML-Enc 1.1 §5.2.4).
    plain = {}
    for ed in elements(doc, XENC, 'EncryptedData'):
        assert one(ed, XENC, 'EncryptionMethod').getAttribute('Algorithm') == AES128_GCM
        cid = one(ed, XENC, 'CipherReference').getAttribute('URI')[len('cid:'):]
        body = attachments[cid]['body']
        clear = AESGCM(cek).decrypt(body[:12], body[12:], None)
        mime = ed.getAttribute('MimeType') or 'application/octet-stream'
        plain[cid] = {'type': mime, 'body': clear}
        with open(os.path.join(out_dir, cid), 'wb') as f:
            f.write(clear)
        report['decrypted'][cid] = {'bytes': len(clear), 'sha256': hashlib.sha256(clear).hexdigest(), 'mimeType': mime}

    # 3. The signature: every Reference digest recomputed, then Ed25519 over the canonical SignedInfo.
    signature = one(doc, DS, 'Signature')
    signed_info = one(signature, DS, 'SignedInfo')
    assert one(signed_info, DS, 'CanonicalizationMethod').getAttribute('Algorithm') == EXC_C14N
    assert one(signed_info, DS, 'SignatureMethod').getAttribute('Algorithm') == ED25519
    all_ok = True
    for ref in elements(signed_info, DS, 'Reference'):
        uri = ref.getAttribute('URI')
        assert one(ref, DS, 'DigestMethod').getAttribute('Algorithm') == SHA256
        transforms = [t.getAttribute('Algorithm') for t in elements(ref, DS, 'Transform')]
        if uri.startswith('cid:'):
            assert transforms == [SWA_CONTENT], transforms
            part = plain.get(uri[4:]) or attachments[uri[4:]]
            octets = canonical_content(part['type'], part['body'])
        else:
            assert transforms == [EXC_C14N], transforms
            prefixes = []
            for inc in ref.getElementsByTagNameNS(EXC_C14N, 'InclusiveNamespaces'):
                prefixes = inc.getAttribute('PrefixList').split()
            octets = exc_c14n(by_id(doc, uri[1:]), prefixes).encode('utf-8')
        ok = base64.b64encode(hashlib.sha256(octets).digest()).decode() == text(one(ref, DS, 'DigestValue'))
        report['references'][uri] = ok
        all_ok = all_ok and ok
    certificate = x509.load_pem_x509_certificate(open(cert_file, 'rb').read())
    try:
        certificate.public_key().verify(base64.b64decode(text(one(signature, DS, 'SignatureValue'))), exc_c14n(signed_info).encode('utf-8'))
        report['signatureValid'] = True
    except InvalidSignature:
        report['signatureValid'] = False
    report['ok'] = all_ok and report['signatureValid']
    return report


# --- the sender ---------------------------------------------------------------------------------------------

ENVELOPE = """<S12:Envelope xmlns:S12="http://www.w3.org/2003/05/soap-envelope">
  <S12:Header>
    <wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" xmlns:wsu="%(wsu)s" S12:mustUnderstand="true">
      <wsse:BinarySecurityToken EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary" ValueType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3" wsu:Id="X509-py">%(bst)s</wsse:BinarySecurityToken>
      %(encrypted_key)s
      %(encrypted_data)s
      <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="SIG-py">%(signed_info)s<ds:SignatureValue>%(signature_value)s</ds:SignatureValue>
        <ds:KeyInfo><wsse:SecurityTokenReference><wsse:Reference URI="#X509-py" ValueType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"/></wsse:SecurityTokenReference></ds:KeyInfo>
      </ds:Signature>
    </wsse:Security>
    %(messaging)s
  </S12:Header>
  <S12:Body xmlns:wsu="%(wsu)s" wsu:Id="body-py"/>
</S12:Envelope>"""

MESSAGING = """<eb3:Messaging xmlns:eb3="http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/" xmlns:S12="http://www.w3.org/2003/05/soap-envelope" xmlns:wsu="%(wsu)s" S12:mustUnderstand="true" wsu:Id="messaging-py">
      <eb3:UserMessage>
        <eb3:MessageInfo><eb3:Timestamp>2026-01-02T03:04:05Z</eb3:Timestamp><eb3:MessageId>%(message_id)s</eb3:MessageId></eb3:MessageInfo>
        <eb3:PartyInfo>
          <eb3:From><eb3:PartyId type="urn:oasis:names:tc:ebcore:partyid-type:unregistered">python-ap</eb3:PartyId><eb3:Role>http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/initiator</eb3:Role></eb3:From>
          <eb3:To><eb3:PartyId type="urn:oasis:names:tc:ebcore:partyid-type:unregistered">ap-c3</eb3:PartyId><eb3:Role>http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/responder</eb3:Role></eb3:To>
        </eb3:PartyInfo>
        <eb3:CollaborationInfo><eb3:AgreementRef>urn:qerds:agreement:test</eb3:AgreementRef><eb3:Service type="urn:qerds:services">urn:qerds:service:erds</eb3:Service><eb3:Action>Deliver</eb3:Action><eb3:ConversationId>py-conv</eb3:ConversationId></eb3:CollaborationInfo>
        <eb3:MessageProperties><eb3:Property name="originalSender" type="urn:qerds:id">urn:example:python</eb3:Property><eb3:Property name="finalRecipient" type="urn:qerds:id">urn:example:recipient</eb3:Property></eb3:MessageProperties>
        <eb3:PayloadInfo>%(part_infos)s</eb3:PayloadInfo>
      </eb3:UserMessage>
    </eb3:Messaging>"""


def _reference(uri, transform, octets):
    digest = base64.b64encode(hashlib.sha256(octets).digest()).decode()
    return ('<ds:Reference URI="%s"><ds:Transforms><ds:Transform Algorithm="%s"/></ds:Transforms>'
            '<ds:DigestMethod Algorithm="%s"/><ds:DigestValue>%s</ds:DigestValue></ds:Reference>') % (uri, transform, SHA256, digest)


def build_message(key_file, cert_file, recipient_cert_file, message_id, out_dir, files):
    signing_key = serialization.load_pem_private_key(open(key_file, 'rb').read(), password=None)
    signer = x509.load_pem_x509_certificate(open(cert_file, 'rb').read())
    recipient = x509.load_pem_x509_certificate(open(recipient_cert_file, 'rb').read())
    parts = [('part%d@python' % i, open(f, 'rb').read()) for i, f in enumerate(files, 1)]
    fill = {'wsu': WSU, 'message_id': message_id, 'bst': base64.b64encode(signer.public_bytes(serialization.Encoding.DER)).decode()}
    fill['part_infos'] = ''.join('<eb3:PartInfo href="cid:%s"><eb3:PartProperties><eb3:Property name="MimeType">application/octet-stream</eb3:Property></eb3:PartProperties></eb3:PartInfo>' % cid for cid, _ in parts)
    fill['messaging'] = MESSAGING % fill

    # Sign first (over the plaintext attachments), as the eDelivery profile orders it.
    draft = minidom.parseString(ENVELOPE % dict(fill, encrypted_key='', encrypted_data='', signed_info='<ds:SignedInfo/>', signature_value=''))
    references = [_reference('#messaging-py', EXC_C14N, exc_c14n(by_id(draft, 'messaging-py')).encode()),
                  _reference('#body-py', EXC_C14N, exc_c14n(by_id(draft, 'body-py')).encode())]
    references += [_reference('cid:' + cid, SWA_CONTENT, body) for cid, body in parts]
    signed_info = ('<ds:SignedInfo><ds:CanonicalizationMethod Algorithm="%s"/><ds:SignatureMethod Algorithm="%s"/>%s</ds:SignedInfo>'
                   % (EXC_C14N, ED25519, ''.join(references)))
    holder = minidom.parseString('<ds:Signature xmlns:ds="%s">%s</ds:Signature>' % (DS, signed_info))
    fill['signed_info'] = signed_info
    fill['signature_value'] = base64.b64encode(signing_key.sign(exc_c14n(one(holder, DS, 'SignedInfo')).encode())).decode()

    # Then encrypt: one AES-128 content key, wrapped under a KEK from an ephemeral X25519 agreement and HKDF.
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    from cryptography.hazmat.primitives.keywrap import aes_key_wrap
    cek = os.urandom(16)
    ephemeral = X25519PrivateKey.generate()
    salt = os.urandom(32)
    kek = HKDF(algorithm=hashes.SHA256(), length=16, salt=salt, info=b'').derive(ephemeral.exchange(recipient.public_key()))
    eph_der = ephemeral.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    ciphertexts = []
    data_refs = []
    encrypted_data = []
    for i, (cid, body) in enumerate(parts, 1):
        iv = os.urandom(12)
        ciphertexts.append((cid, iv + AESGCM(cek).encrypt(iv, body, None)))
        data_refs.append('<xenc:DataReference URI="#ED-py-%d"/>' % i)
        encrypted_data.append(
            '<xenc:EncryptedData xmlns:xenc="%s" Id="ED-py-%d" MimeType="application/octet-stream" Type="http://docs.oasis-open.org/wss/oasis-wss-SwAProfile-1.1#Attachment-Content-Only">'
            '<xenc:EncryptionMethod Algorithm="%s"/>'
            '<ds:KeyInfo xmlns:ds="%s"><wsse:SecurityTokenReference xmlns:wsse11="http://docs.oasis-open.org/wss/oasis-wss-wssecurity-secext-1.1.xsd" wsse11:TokenType="http://docs.oasis-open.org/wss/oasis-wss-soap-message-security-1.1#EncryptedKey"><wsse:Reference URI="#EK-py"/></wsse:SecurityTokenReference></ds:KeyInfo>'
            '<xenc:CipherData><xenc:CipherReference URI="cid:%s"><xenc:Transforms><ds:Transform xmlns:ds="%s" Algorithm="http://docs.oasis-open.org/wss/oasis-wss-SwAProfile-1.1#Attachment-Ciphertext-Transform"/></xenc:Transforms></xenc:CipherReference></xenc:CipherData>'
            '</xenc:EncryptedData>' % (XENC, i, AES128_GCM, DS, cid, DS))
    fill['encrypted_key'] = (
        '<xenc:EncryptedKey xmlns:xenc="%s" Id="EK-py"><xenc:EncryptionMethod Algorithm="%s"/>'
        '<ds:KeyInfo xmlns:ds="%s"><xenc:AgreementMethod Algorithm="%s">'
        '<xenc11:KeyDerivationMethod xmlns:xenc11="http://www.w3.org/2009/xmlenc11#" Algorithm="%s"><dsig-more:HKDFParams xmlns:dsig-more="%s">'
        '<dsig-more:PRF Algorithm="http://www.w3.org/2001/04/xmldsig-more#hmac-sha256"/><dsig-more:Salt>%s</dsig-more:Salt><dsig-more:KeyLength>16</dsig-more:KeyLength>'
        '</dsig-more:HKDFParams></xenc11:KeyDerivationMethod>'
        '<xenc:OriginatorKeyInfo><dsig11:DEREncodedKeyValue xmlns:dsig11="%s">%s</dsig11:DEREncodedKeyValue></xenc:OriginatorKeyInfo>'
        '<xenc:RecipientKeyInfo><ds:X509Data><ds:X509IssuerSerial><ds:X509IssuerName>%s</ds:X509IssuerName><ds:X509SerialNumber>%d</ds:X509SerialNumber></ds:X509IssuerSerial></ds:X509Data></xenc:RecipientKeyInfo>'
        '</xenc:AgreementMethod></ds:KeyInfo>'
        '<xenc:CipherData><xenc:CipherValue>%s</xenc:CipherValue></xenc:CipherData><xenc:ReferenceList>%s</xenc:ReferenceList></xenc:EncryptedKey>'
        % (XENC, KW_AES128, DS, X25519, HKDF_URI, DSIG_MORE, base64.b64encode(salt).decode(), DSIG11, base64.b64encode(eph_der).decode(),
           recipient.issuer.rfc4514_string(), recipient.serial_number, base64.b64encode(aes_key_wrap(kek, cek)).decode(), ''.join(data_refs)))
    fill['encrypted_data'] = ''.join(encrypted_data)
    envelope = (ENVELOPE % fill).encode('utf-8')

    boundary = 'py-boundary-' + os.urandom(8).hex()
    out = [b'--' + boundary.encode() + b'\r\nContent-Type: application/soap+xml; charset=UTF-8\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <envelope@python>\r\n\r\n' + envelope + b'\r\n']
    for cid, ciphertext in ciphertexts:
        out.append(b'--' + boundary.encode() + b'\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <' + cid.encode() + b'>\r\n\r\n' + ciphertext + b'\r\n')
    out.append(b'--' + boundary.encode() + b'--\r\n')
    with open(os.path.join(out_dir, 'message.mime'), 'wb') as f:
        f.write(b''.join(out))
    with open(os.path.join(out_dir, 'content-type'), 'w') as f:
        f.write('multipart/related; boundary="%s"; type="application/soap+xml"; start="<envelope@python>"' % boundary)
    return {'ok': True, 'parts': [cid for cid, _ in parts]}


def main(argv):
    if len(argv) >= 8 and argv[1] == 'build':
        print(json.dumps(build_message(argv[2], argv[3], argv[4], argv[5], argv[6], argv[7:])))
        return 0
    if len(argv) != 7 or argv[1] != 'open':
        sys.stderr.write(__doc__)
        return 2
    try:
        report = open_message(*argv[2:])
    except (InvalidTag, ValueError, AssertionError, KeyError) as error:
        report = {'ok': False, 'error': '%s: %s' % (type(error).__name__, error)}
    print(json.dumps(report))
    return 0 if report['ok'] else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
