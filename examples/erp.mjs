// An ERP sends an invoice through qerds-ap and keeps the signed evidence that comes back to its webhook (the API key's
// evidenceWebhookUrl: http://<this host>:$PORT/). Safe to run again: the same Idempotency-Key answers with the first message.
// QERDS_API=http://127.0.0.1:8080 QERDS_API_KEY=<key> WEBHOOK_SECRET=whsec_<key> PORT=8081 node examples/erp.mjs 0188:9876543210987 invoice.xml INV-2026-000123
import { createHmac, timingSafeEqual } from 'node:crypto';
import { openAsBlob } from 'node:fs';
import { createServer } from 'node:http';
import { text } from 'node:stream/consumers';
const { QERDS_API, QERDS_API_KEY, WEBHOOK_SECRET, PORT } = process.env;
const [recipient, file, reference] = process.argv.slice(2);

createServer(async (req, res) => {
  const body = await text(req);
  const { 'webhook-id': id, 'webhook-timestamp': time, 'webhook-signature': signature = '' } = req.headers;
  const key = Buffer.from(WEBHOOK_SECRET.replace('whsec_', ''), 'base64');
  const expected = Buffer.from(`v1,${createHmac('sha256', key).update(`${id}.${time}.${body}`).digest('base64')}`);
  const signed = Buffer.byteLength(signature) === expected.length && timingSafeEqual(Buffer.from(signature), expected);
  if (!signed || !(Math.abs(Date.now() / 1000 - time) < 300)) return res.writeHead(401).end(); // forged, or replayed
  const event = JSON.parse(body); // keep event.evidenceXml (the sealed proof) with the invoice
  console.log(event.event, event.messageId, event.reference);
  res.writeHead(204).end();
}).listen(PORT);

const form = new FormData();
form.set('metadata', JSON.stringify({ recipient, reference }));
form.set('payload', await openAsBlob(file, { type: 'application/xml' }), file);
const headers = { authorization: `Bearer ${QERDS_API_KEY}`, 'idempotency-key': reference };
const res = await fetch(`${QERDS_API}/api/v1/messages`, { method: 'POST', headers, body: form });
const sent = await res.json();
console.log(res.status, res.headers.get('idempotent-replayed') ? 'replayed' : 'new', sent.id ?? sent.detail);
