// Submit an invoice from an ERP, safe to retry: the same Idempotency-Key answers with the first submission.
// QERDS_API=http://127.0.0.1:8080 QERDS_API_KEY=<key> node examples/erp-submit.mjs 0188:9876543210987 invoice.xml INV-2026-000123
import { readFile } from 'node:fs/promises';
const [recipient, file, reference] = process.argv.slice(2);
const form = new FormData();
form.set('metadata', JSON.stringify({ recipient, reference }));
form.append('payload', new Blob([await readFile(file)], { type: 'application/xml' }), file.split('/').pop());
const headers = { authorization: `Bearer ${process.env.QERDS_API_KEY}`, 'idempotency-key': reference };
const res = await fetch(`${process.env.QERDS_API}/api/v1/messages`, { method: 'POST', headers, body: form });
const body = await res.json();
console.log(res.status, res.headers.get('idempotent-replayed') ? 'replayed' : 'new', body.id ?? body.detail);
process.exitCode = res.ok ? 0 : 1;
