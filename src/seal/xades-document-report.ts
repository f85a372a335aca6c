import type { XadesDocumentReport, XadesSignatureReport } from './xades-document.js';

/** The words `qerds verify` prints for a signed XML document of another product (XAdES, XMLDSig, trusted list). */
export function formatXadesDocumentReport(r: XadesDocumentReport): string {
  const lines = [
    `${r.indication}${r.subIndication ? `/${r.subIndication}` : ''}: ${r.kind} document, ${r.signatures.length} signature${r.signatures.length === 1 ? '' : 's'}`,
  ];
  r.signatures.forEach((s, i) => {
    lines.push(
      `  signature ${i + 1}${s.id ? ` (${s.id})` : ''}: ${s.form} ${s.level}, ${s.indication}${s.subIndication ? `/${s.subIndication}` : ''}`,
    );
    lines.push(
      `    signature value: ${s.signatureValueVerified ? 'verifies' : 'not verified'}; signer: ${s.signer?.subject.replace(/\n/g, ', ') ?? '(none found)'}`,
    );
    if (s.signingTime) lines.push(`    claimed signing time: ${s.signingTime.toISOString()}`);
    for (const ref of s.references)
      lines.push(`    reference ${ref.uri === undefined ? '(no URI)' : `"${ref.uri}"`}: ${ref.status}`);
    for (const t of s.timestamps)
      lines.push(
        `    ${t.kind}: ${t.valid ? 'valid' : 'not valid'}${t.genTime ? ` (${t.genTime.toISOString()})` : ''}`,
      );
    for (const m of s.manifests ?? [])
      for (const ref of m.references)
        lines.push(
          `    manifest${m.id ? ` ${m.id}` : ''} reference ${ref.uri === undefined ? '(no URI)' : `"${ref.uri}"`}: ${ref.status}`,
        );
    // One line per counter-signature (nested ones indented under theirs), each with its own verdict.
    const counters = (list: XadesSignatureReport['counterSignatures'], indent: string): void =>
      list?.forEach((c, j) => {
        lines.push(
          `${indent}counter-signature ${j + 1}${c.id ? ` (${c.id})` : ''}: ${c.form} ${c.level}, ${c.indication}${c.subIndication ? `/${c.subIndication}` : ''}; signature value: ${c.signatureValueVerified ? 'verifies' : 'not verified'}; signer: ${c.signer?.subject.replace(/\n/g, ', ') ?? '(none found)'}`,
        );
        counters(c.counterSignatures, `${indent}  `);
      });
    counters(s.counterSignatures, '    ');
  });
  for (const f of r.findings.filter((x) => x.severity !== 'info'))
    lines.push(`  ${f.severity}: ${f.code}: ${f.message.replace(/\n/g, ', ')}`);
  return lines.join('\n');
}

/** The report as JSON text (certificates as subject and SHA-256 fingerprint). */
export function xadesDocumentReportJson(r: XadesDocumentReport): string {
  return JSON.stringify(
    {
      ...r,
      signatures: r.signatures.map(signatureJson),
    },
    null,
    2,
  );
}

function signatureJson(s: XadesSignatureReport): unknown {
  return {
    ...s,
    signer: s.signer ? { subject: s.signer.subject, fingerprint256: s.signer.fingerprint256 } : undefined,
    ...(s.counterSignatures ? { counterSignatures: s.counterSignatures.map(signatureJson) } : {}),
  };
}
