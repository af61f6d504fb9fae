// LiveKit's own Node server SDK checks what roomrpc produced (driven by tests/livekit_node.py).
// stdin:  {"apiKey", "apiSecret", "tokens": [jwt...], "webhooks": [{"body", "authorization"}...]}
// stdout: {"tokens": [{"claims"} | {"error"}...], "webhooks": [{"event"} | {"error"}...]}
import { TokenVerifier, WebhookReceiver } from "livekit-server-sdk";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const verifier = new TokenVerifier(input.apiKey, input.apiSecret);
const receiver = new WebhookReceiver(input.apiKey, input.apiSecret);

async function outcome(work) {
  try {
    return await work();
  } catch (error) {
    return { error: `${error?.code ?? error?.name ?? "Error"}: ${error?.message ?? error}` };
  }
}

const tokens = [];
for (const token of input.tokens ?? []) {
  tokens.push(await outcome(async () => ({ claims: await verifier.verify(token) })));
}
const webhooks = [];
for (const { body, authorization } of input.webhooks ?? []) {
  webhooks.push(
    await outcome(async () => {
      const event = await receiver.receive(body, authorization);
      return { event: event.toJson() };
    }),
  );
}
process.stdout.write(JSON.stringify({ tokens, webhooks }));
