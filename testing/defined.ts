/**
 * Checked access for tests: a value or list element a test expects fails the test with an AssertionError
 * naming what was missing, instead of a TypeError further on (the counterpart of `noUncheckedIndexedAccess`).
 */
import { AssertionError } from "node:assert";

/** `value`, or an AssertionError "expected <what>" if it is undefined or null. */
export function defined<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) {
    throw new AssertionError({ message: `expected ${what}, got ${String(value)}` });
  }
  return value;
}

/** What {@link at} reads: an array or a typed array. */
export interface Indexed<T> {
  readonly length: number;
  at(index: number): T | undefined;
}

/** Element `index` of `list` (negative counts from the end), or an AssertionError naming `what`. */
export function at<T>(list: Indexed<T>, index: number, what: string): T {
  const value = list.at(index);
  if (value === undefined) {
    throw new AssertionError({ message: `expected ${what} at index ${index}, but the list has ${list.length}` });
  }
  return value;
}

/** The one element of `list`, or an AssertionError naming `what` if it has none or several. */
export function only<T>(list: readonly T[], what: string): T {
  const [value] = list;
  if (list.length !== 1 || value === undefined) {
    throw new AssertionError({ message: `expected exactly one ${what}, got ${list.length}` });
  }
  return value;
}

/** A tuple of `N` elements of type `T`. */
export type Tuple<T, N extends number, R extends T[] = []> = R["length"] extends N ? R : Tuple<T, N, [...R, T]>;

/**
 * The first `count` elements of `list` as a tuple (for destructuring), or an AssertionError naming `what`
 * if it has fewer.
 */
export function take<T, N extends number>(list: readonly T[], count: N, what: string): Tuple<T, N> {
  if (list.length < count) {
    throw new AssertionError({ message: `expected at least ${count} ${what}, got ${list.length}` });
  }
  // Length checked just above.
  return list.slice(0, count) as Tuple<T, N>;
}

/** Flips the lowest bit of byte `index` of `bytes` (negative counts from the end), in place: to tamper with data. */
export function flipBit(bytes: Uint8Array, index: number): void {
  const i = index < 0 ? bytes.length + index : index;
  bytes[i] = at(bytes, i, "the byte to flip") ^ 1;
}
