/**
 * `value` and everything it holds, frozen: a record shared by a cache must not be changed by any reader.
 * (`Object.isFrozen` is true of null and of every primitive, so they pass through as they are.)
 */
export function deepFreeze<T>(value: T): T {
  if (!Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value as object)) deepFreeze(inner);
  }
  return value;
}

/**
 * `fn`, remembered per argument when the argument is frozen: an immutable input always gives the same output,
 * so a record of the serving store's job cache (frozen there, deeply) is presented and serialised once rather
 * than on every request (issue 11: its four timestamps and its JSON were ~6 % of `GET /jobs/{id}`'s CPU).
 * Any other argument is passed to `fn` each time. A remembered result is frozen too, so callers may share it;
 * it lives as long as its argument does (a WeakMap). "Frozen" means deeply, as `deepFreeze` leaves it: an
 * argument frozen on top with a changing inside would be answered from memory (nothing here freezes shallowly).
 * @example const present = memoFrozen((job: JobRecord) => ({ id: job.id })); present(deepFreeze(record));
 */
export function memoFrozen<A extends object, R>(fn: (arg: A) => R): (arg: A) => R {
  const memo = new WeakMap<A, R>();
  return (arg) => {
    if (!Object.isFrozen(arg)) return fn(arg);
    let result = memo.get(arg);
    if (result === undefined) {
      result = deepFreeze(fn(arg));
      memo.set(arg, result);
    }
    return result;
  };
}
