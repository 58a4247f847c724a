// Issue 14, item 2: the SDK's types, checked by the compiler (`npm run typecheck` compiles this file; each
// `@ts-expect-error` fails the build if the line it marks stops being an error). The runtime assertions are
// the same facts seen from a value.
import type { components, Job, JobEvent, JobSpec, JobStatus, KnifyClient } from "@knify/sdk";
import { describe, expect, expectTypeOf, it } from "vitest";

type Model = components["schemas"]["Model"];

describe("the job spec is a union discriminated by job_type", () => {
  it("requires each type's own fields", () => {
    const exam: JobSpec = {
      job_type: "user_exam",
      user_id: "u_1",
      time_range: { from: "2025-11-16T00:00:00Z", to: "2025-11-17T00:00:00Z" },
    };
    const task: JobSpec = { job_type: "cursor_task", prompt: "Hello" };
    // @ts-expect-error user_exam needs user_id and time_range
    const examWithoutUser: JobSpec = { job_type: "user_exam", prompt: "who?" };
    // @ts-expect-error cursor_task needs a prompt
    const taskWithoutPrompt: JobSpec = { job_type: "cursor_task" };
    // @ts-expect-error user_exam needs time_range too
    const examWithoutRange: JobSpec = { job_type: "user_exam", user_id: "u_1" };
    expect([exam, task, examWithoutUser, taskWithoutPrompt, examWithoutRange].map((s) => s.job_type)).toEqual([
      "user_exam",
      "cursor_task",
      "user_exam",
      "cursor_task",
      "user_exam",
    ]);
  });

  it("narrows on job_type", () => {
    const describeSpec = (spec: JobSpec): string =>
      spec.job_type === "user_exam" ? `${spec.user_id} ${spec.time_range.from}` : spec.prompt;
    expectTypeOf<Extract<JobSpec, { job_type: "user_exam" }>["user_id"]>().toEqualTypeOf<string>();
    expectTypeOf<Exclude<JobSpec, { job_type: "user_exam" }>["prompt"]>().toEqualTypeOf<string>();
    expect(describeSpec({ job_type: "gemini_task", prompt: "Hi" })).toBe("Hi");
  });

  it("is what jobs.create and createAndWait take", () => {
    expectTypeOf<Parameters<KnifyClient["jobs"]["create"]>[0]>().toEqualTypeOf<JobSpec>();
    expectTypeOf<Parameters<KnifyClient["jobs"]["createAndWait"]>[0]>().toEqualTypeOf<JobSpec>();
  });
});

describe("extensible enums are open", () => {
  it("a status or model newer than this SDK is a string it accepts, and the known ones are still offered", () => {
    const newer: JobStatus = "queued_for_gpu";
    const model: Model = "gpt-7";
    const known: JobStatus = "completed";
    expectTypeOf<"completed">().toExtend<JobStatus>();
    expectTypeOf<string>().toExtend<JobStatus>();
    expectTypeOf<Job["status"]>().toEqualTypeOf<JobStatus>();
    expectTypeOf<JobEvent["type"]>().toExtend<string>();
    expectTypeOf<"agent.message">().toExtend<JobEvent["type"]>();
    // A value of a closed type is not silently widened: an object spec still refuses unknown keys.
    // @ts-expect-error not a JobSpec field
    const typo: JobSpec = { job_type: "cursor_task", prompt: "p", promt: "p" };
    const onNewStatus = (job: Job) => (job.status === "queued_for_gpu" ? "newer" : job.status);
    expect([newer, model, known, typo.job_type]).toHaveLength(4);
    expect(onNewStatus({ status: "queued_for_gpu" } as Job)).toBe("newer");
  });
});

describe("job events are typed by their type", () => {
  it("narrows data on type", () => {
    const describeEvent = (event: JobEvent): string => {
      switch (event.type) {
        case "output":
          return `${event.data.stream}: ${event.data.line}`;
        case "status":
          return event.data.error ? `${event.data.status} (${event.data.error.code})` : event.data.status;
        case "turn":
          return `turn ${event.data.turn}: ${event.data.prompt ?? ""}`;
        case "agent.tool_call":
          return `${event.data.name} ${event.data.status}`;
        default:
          return event.type;
      }
    };
    expectTypeOf<Extract<JobEvent, { type: "output" }>["data"]["line"]>().toEqualTypeOf<string>();
    expectTypeOf<Extract<JobEvent, { type: "turn" }>["data"]["turn"]>().toEqualTypeOf<number>();
    expectTypeOf<Extract<JobEvent, { type: "agent.message" }>["data"]["text"]>().toEqualTypeOf<string>();
    const output = { seq: 2, job_id: "job_1", type: "output", created_at: "", data: { stream: "stdout", line: "hi" } };
    expect(describeEvent(output as JobEvent)).toBe("stdout: hi");
    // @ts-expect-error an output event's data has no status
    const wrong: Extract<JobEvent, { type: "output" }>["data"]["status"] = "x";
    expect(wrong).toBe("x");
  });
});
