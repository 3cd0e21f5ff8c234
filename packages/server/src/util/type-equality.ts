/**
 * Compile-time checks that two types describe the same values: a schema and its wire type, a row and
 * the type it stores. A mismatch fails `tsc -b`, so a contract cannot drift unnoticed.
 */

/** `true` when `A` and `B` are the same type, optional and nullable fields alike; `false` otherwise. */
export type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/**
 * `T` as plain data: `readonly` dropped (arrays included) and intersections flattened, so that a type
 * written by hand and one a library computes compare by their fields alone.
 */
export type Plain<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends readonly (infer Item)[]
    ? Plain<Item>[]
    : T extends object
      ? { -readonly [Key in keyof T]: Plain<T[Key]> }
      : T;

/** `true` when `A` and `B` hold the same plain data. */
export type SameShape<A, B> = Equal<Plain<A>, Plain<B>>;

/** Compiles only when `Result` is `true`. */
export type Check<Result extends true> = Result;

/** Compiles only when every one of `Results` is `true`. */
export type CheckAll<Results extends readonly true[]> = Results;
