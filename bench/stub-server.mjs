// The stub API for bench/transport.mjs: answers every request with the same small job as JSON, as fast as
// Node's http module can, so the figures measure the client side. Prints its port, then serves until killed.

import { createServer } from "node:http";

const job = JSON.stringify({
  id: "job_bench",
  status: "completed",
  spec: { job_type: "cursor_task", prompt: "Hello" },
  created_at: "2026-12-03T06:00:00Z",
  updated_at: "2026-12-03T06:00:01Z",
  result: { summary: "done" },
});

const server = createServer((request, response) => {
  // Drain any request body, then answer; keep-alive stays on (Node's default).
  request.resume();
  request.on("end", () => {
    response.writeHead(200, {
      "Content-Type": "application/json",
      "Content-Length": Buffer.byteLength(job),
      "X-Request-Id": "req_bench",
    });
    response.end(job);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  console.log(server.address().port);
});
