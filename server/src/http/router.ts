import type { Operation } from "../generated/operations.js";
import { ProblemError } from "./problem.js";

/** An operation the request's method and path chose, with its path parameters decoded. */
export interface Route {
  op: Operation;
  params: Record<string, string>;
}

interface CompiledRoute {
  op: Operation;
  pattern: RegExp;
  names: string[];
  /** The methods this route answers: HEAD too for GET, as HTTP expects (RFC 9110 §9.3.2). */
  methods: string[];
}

/**
 * Matches requests to the spec's operations (the generated table): `{name}` is one path segment,
 * case-insensitive, with an optional trailing slash — the rules the server's Koa router used, so that
 * the server and the mock route alike. Unknown paths are 404, known paths with another method 405.
 * @example const route = createRouter(operations).route("GET", "/jobs/job_1"); // { op: getJob, params: { job_id: "job_1" } }
 */
export function createRouter(operations: readonly Operation[]) {
  const routes: CompiledRoute[] = operations.map((op) => {
    const names: string[] = [];
    const source = op.path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{(\w+)\}/g, (_, name: string) => {
      names.push(name);
      return "([^/]+)";
    });
    const methods = op.method === "GET" ? ["HEAD", "GET"] : [op.method];
    return { op, pattern: new RegExp(`^${source.replace(/\/$/, "")}/?$`, "i"), names, methods };
  });

  return {
    /** The operation for `method` and `path`, or a 404/405 problem. */
    route(method: string, path: string): Route {
      const verb = method.toUpperCase();
      // The first route (in the table's order) with this method whose pattern matches: one regex run per
      // candidate of the method, not one per route of the table (issue 11).
      for (const route of routes) {
        if (!route.methods.includes(verb)) continue;
        const captures = route.pattern.exec(path);
        if (!captures) continue;
        const params: Record<string, string> = {};
        route.names.forEach((name, i) => {
          params[name] = safeDecode(captures[i + 1] ?? "");
        });
        return { op: route.op, params };
      }
      const matching = routes.filter((route) => route.pattern.test(path));
      throw notFoundOrNotAllowed(matching, method);
    },
  };
}

/** A malformed escape stays as sent; the parameter's validator then refuses it. */
function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * The 404/405 problem of a request no operation took. Neither echoes the raw path, which the client chose
 * (and a log viewer or a page showing the error might render): a 405 names the route template instead.
 */
function notFoundOrNotAllowed(matching: CompiledRoute[], method: string): ProblemError {
  const allowed = [...new Set(matching.flatMap((route) => route.methods))];
  if (allowed.length === 0) {
    return new ProblemError(
      "not_found",
      "There is no such path in the Knify API. Check the path and the base URL against the API reference.",
    );
  }
  const template = matching[0]?.op.path ?? "this path";
  return new ProblemError(
    "method_not_allowed",
    `${method} is not allowed on ${template}; use ${allowed.join(", ")}.`,
    { allowed_methods: allowed },
    { Allow: allowed.join(", ") },
  );
}
