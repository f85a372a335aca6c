// Receive qerds-ap's evidence webhooks in an ERP; only a valid, fresh Standard Webhooks signature is taken.
// WEBHOOK_SECRET=whsec_<base64 key> PORT=8081 node examples/erp-webhook.mjs
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
const key = Buffer.from(process.env.WEBHOOK_SECRET.replace(/^whsec_/, ''), 'base64');
const server = createServer(async (req, res) => {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const [id, ts, raw] = [req.headers['webhook-id'], req.headers['webhook-timestamp'], Buffer.concat(chunks).toString()];
  const expected = Buffer.from(`v1,${createHmac('sha256', key).update(`${id}.${ts}.${raw}`).digest('base64')}`);
  const signed = String(req.headers['webhook-signature'] ?? '').split(' ').some((s) => Buffer.byteLength(s) === expected.length && timingSafeEqual(Buffer.from(s), expected));
  if (!signed || Math.abs(Date.now() / 1000 - Number(ts)) > 300) return void res.writeHead(401).end();
  const event = JSON.parse(raw); // keep event.evidenceXml (the sealed proof) with the invoice `event.reference`
  console.log(event.event, event.messageId, event.reference ?? '');
  res.writeHead(204).end();
});
server.listen(Number(process.env.PORT ?? 8081), () => console.log(`listening on ${server.address().port}`));
