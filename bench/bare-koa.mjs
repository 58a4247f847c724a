// The baseline of bench/server.mjs: bare Koa answering a fixed JSON object per route (no router, no auth, no
// store; a POST's body is read and parsed as JSON, as any JSON API must), the floor any Koa server pays per
// request. Prints its URL once it listens.
//
//   node bench/bare-koa.mjs '{"GET /jobs/job_x": [200, {"id": "job_x"}], "POST /jobs": [200, {"job_id": "job_x"}]}'

import Koa from "koa";

const routes = new Map(Object.entries(JSON.parse(process.argv[2] ?? "{}")));
const app = new Koa();
app.use(async (ctx) => {
  const route = routes.get(`${ctx.method} ${ctx.path}`);
  if (!route) return;
  if (ctx.method === "POST") {
    const chunks = [];
    for await (const chunk of ctx.req) chunks.push(chunk);
    JSON.parse(Buffer.concat(chunks).toString("utf8"));
  }
  [ctx.status, ctx.body] = route;
});
const server = app.listen(0, "127.0.0.1", () => console.log(`http://127.0.0.1:${server.address().port}`));
process.once("SIGTERM", () => server.close(() => process.exit(0)));
