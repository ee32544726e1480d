/**
 * The hostile-value property of the component tier (issue 15): for each plain argument of a
 * component, a wrong JavaScript type or its valid text with a shell or configuration
 * metacharacter inserted must be refused with one `pulumi.ResourceError` whose message has a
 * line `- <argument path>: ...` naming that argument. A free-text argument may instead be
 * accepted, and then its place says how the rendered output keeps it inert.
 */
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import fc from "fast-check";

/** Shell and configuration metacharacters, and a character no text value may hold. */
export const METACHARACTERS = [
  " ",
  "\n",
  "\0",
  "'",
  '"',
  "`",
  "$(id)",
  ";",
  "|",
  "&",
  "\\",
  "#",
  "{",
  "}",
] as const;

/** Values of the wrong JavaScript type (or, for a count, out of any sane range). */
export const WRONG_TYPES: readonly unknown[] = [
  42,
  true,
  null,
  {},
  [],
  ["x"],
  () => "x",
  -1,
  1e9,
  1.5,
];

/** Where a hostile value goes in a component's arguments, and what must become of it. */
export interface HostilePlace<A, C = unknown> {
  /** The argument path the error must name (a function when the path holds the value). */
  readonly at: string | ((value: unknown) => string);
  /** The valid text the metacharacter is inserted into. */
  readonly valid: string;
  /** The component's arguments with `value` at this place. */
  readonly set: (value: unknown) => A;
  /** Null means "not given" there (Pulumi's convention), so it is not hostile. */
  readonly optional?: true;
  /** Only text: the place is an object key, which is always a string. */
  readonly textOnly?: true;
  /** Values that are not hostile at this place (a count in range, an empty optional list). */
  readonly accepts?: (value: unknown) => boolean;
  /**
   * A free-text place: the value may be accepted, and then this checks that the component
   * rendered it inert (it throws when not).
   */
  readonly inert?: (made: C, value: string) => void;
}

/** One generated case: a place and the hostile value put there. */
export interface HostileCase<A, C> {
  readonly place: HostilePlace<A, C>;
  readonly value: unknown;
}

/** Cases over `places`: a wrong type, or a metacharacter inserted into the valid text. */
export function hostileCases<A, C>(
  places: readonly HostilePlace<A, C>[],
): fc.Arbitrary<HostileCase<A, C>> {
  return fc
    .tuple(
      fc.constantFrom(...places),
      fc.oneof(
        fc.constantFrom(...WRONG_TYPES).map((v) => ({ kind: "type" as const, v })),
        fc
          .tuple(fc.constantFrom(...METACHARACTERS), fc.nat())
          .map(([bad, at]) => ({ kind: "text" as const, bad, at })),
      ),
    )
    .map(([place, hostile]) => {
      if (hostile.kind === "type") return { place, value: hostile.v };
      const i = hostile.at % (place.valid.length + 1);
      return { place, value: `${place.valid.slice(0, i)}${hostile.bad}${place.valid.slice(i)}` };
    })
    .filter(
      ({ place, value }) =>
        !(place.optional && value === null) &&
        !(place.textOnly && typeof value !== "string") &&
        !(place.accepts?.(value) ?? false),
    );
}

/** The argument path of a case. */
export function pathOf<A, C>(c: HostileCase<A, C>): string {
  return typeof c.place.at === "function" ? c.place.at(c.value) : c.place.at;
}

/**
 * Runs `construct` on a case: it must throw a `pulumi.ResourceError` with a line naming the
 * argument, or, at a free-text place, return a component its `inert` check passes.
 * Returns whether it was refused.
 */
export function assertRefusedOrInert<A, C>(c: HostileCase<A, C>, construct: () => C): boolean {
  const at = pathOf(c);
  const shown = `${at}=${JSON.stringify(String(c.value))}`;
  let made: C;
  try {
    made = construct();
  } catch (e) {
    assert.ok(e instanceof pulumi.ResourceError, `${shown}: ${e}`);
    const line = `- ${at}: `;
    assert.ok(
      e.message.split("\n- ").some((l) => `- ${l}`.startsWith(line)),
      `${shown}: ${e.message}`,
    );
    return true;
  }
  assert.ok(c.place.inert !== undefined, `${shown} was accepted`);
  assert.equal(typeof c.value, "string", `${shown}: a value of the wrong type was accepted`);
  c.place.inert(made, c.value as string);
  return false;
}

/** A path into arguments: object keys and list indexes. */
export type ArgumentKeys = readonly (string | number)[];

/**
 * `args` with `value` at `keys`: each object and list on the way is copied (a missing one is
 * created), so `args` itself, and any resource in it, stays as it was.
 */
export function withValue<A>(args: A, keys: ArgumentKeys, value: unknown): A {
  const [key, ...rest] = keys;
  if (key === undefined) return value as A;
  const at: unknown = args;
  const fresh: unknown = typeof key === "number" ? [] : {};
  const copy = (
    Array.isArray(at) ? [...at] : isTable(at) ? { ...(at as object) } : fresh
  ) as Record<string | number, unknown>;
  copy[key] = withValue(copy[key], rest, value);
  return copy as A;
}

/** A maker of places over `base`: `place(at, valid, keys, more)` puts the value at `keys`. */
export function placesOver<A, C>(base: () => A) {
  return (
    at: string,
    valid: string,
    keys: ArgumentKeys,
    more: Partial<HostilePlace<A, C>> = {},
  ): HostilePlace<A, C> => ({ at, valid, set: (v) => withValue(base(), keys, v), ...more });
}

/** Whether `value` is a list (a list place's contents are other places). */
export const isList = (value: unknown): boolean => Array.isArray(value);

/** Whether `value` is a plain object (an object place's fields are other places). */
export const isTable = (value: unknown): boolean =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** A control character: what no free text that is rendered on one line may hold. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are the point
export const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * The property: `numRuns` generated cases over `places`, each built as `construct(name,
 * args)` with a fresh name `hostile<n>`, refused (or inert at a free-text place). Returns
 * the names of the refused ones, whose children the caller finds none of.
 */
export function assertHostileValuesRefused<A, C>(
  places: readonly HostilePlace<A, C>[],
  construct: (name: string, args: A) => C,
  numRuns = 300,
): string[] {
  let n = 0;
  const refused: string[] = [];
  fc.assert(
    fc.property(hostileCases(places), (c) => {
      const name = `hostile${n++}`;
      if (assertRefusedOrInert(c, () => construct(name, c.place.set(c.value)))) {
        refused.push(name);
      }
    }),
    { numRuns },
  );
  return refused;
}
