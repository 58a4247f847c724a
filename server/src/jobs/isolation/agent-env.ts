/** Values of the variables an operator lets through (`KNIFY_SANDBOX_PASS_ENV`); unset ones are skipped. */
export function passedEnv(names: readonly string[], source: NodeJS.ProcessEnv): Record<string, string> {
  const passed: Record<string, string> = {};
  for (const name of names) {
    const value = source[name];
    if (value !== undefined) passed[name] = value;
  }
  return passed;
}
