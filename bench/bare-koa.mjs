// The baseline of bench/server.mjs: bare Koa answering one JSON object on one path (no router, no auth, no
// store), the floor any Koa server pays per request. Prints its URL once it listens.
//
//   node bench/bare-koa.mjs /jobs/job_x '{"id":"job_x"}'

import Koa from "koa";

const [path, json] = process.argv.slice(2);
const object = JSON.parse(json ?? "{}");
const app = new Koa();
app.use((ctx) => {
  if (ctx.method === "GET" && ctx.path === path) ctx.body = object;
});
const server = app.listen(0, "127.0.0.1", () => console.log(`http://127.0.0.1:${server.address().port}`));
process.once("SIGTERM", () => server.close(() => process.exit(0)));
