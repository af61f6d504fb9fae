// LiveKit's own JS client SDK fetches connection details from roomrpc's token endpoint
// (driven by tests/support/livekit_node.py): TokenSource.endpoint, exactly as a browser app
// uses it, with our bearer token in the headers.
// stdin:  {"url", "authorization", "fetches": [TokenSourceFetchOptions...]}
// stdout: {"fetches": [{"response": {serverUrl, participantToken, ...}} | {"error"}...],
//          "cached": bool (the second identical fetch answered from the SDK's cache)}
import { TokenSource } from "livekit-client";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const headers = input.authorization ? { Authorization: input.authorization } : {};
const fetches = [];
for (const options of input.fetches) {
  const source = TokenSource.endpoint(input.url, { headers });
  try {
    const response = await source.fetch(options);
    const again = await source.fetch(options); // cached while exp is more than 60 s away
    fetches.push({ response, cached: again.participantToken === response.participantToken });
  } catch (error) {
    fetches.push({ error: String(error?.message ?? error) });
  }
}
process.stdout.write(JSON.stringify({ fetches }));
