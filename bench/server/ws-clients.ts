// Child process for the broadcast benchmark: opens N WebSocket clients and reports when each has
// received M messages (kept out of the server's process so its CPU is not counted).
import WebSocket from 'ws';

const [url, nStr, mStr] = process.argv.slice(2);
const n = Number(nStr);
const m = Number(mStr);
let done = 0;
let open = 0;
for (let i = 0; i < n; i++) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  let got = 0;
  ws.on('open', () => {
    if (++open === n) process.send?.('open');
  });
  ws.on('message', () => {
    if (++got === m) {
      if (++done === n) {
        process.send?.('done');
      }
    }
  });
  ws.on('error', (e) => {
    console.error(e.message);
    process.exit(1);
  });
}
process.on('message', (msg) => {
  if (msg === 'exit') process.exit(0);
});
