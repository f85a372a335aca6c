import type { Compilable, CompiledQuery, QueryResult } from 'kysely';

/** What runs a compiled query: the store's Kysely instance, or a transaction of it. */
export interface QueryRunner {
  executeQuery<R>(query: CompiledQuery<R>): Promise<QueryResult<R>>;
}

/** A statement compiled to SQL once, run with the values of each call. */
export interface CompiledStatement<A extends readonly unknown[], R> {
  run(runner: QueryRunner, ...values: A): Promise<QueryResult<R>>;
}

/**
 * Kysely builds an operation tree and compiles it to SQL on every query (cloning and freezing nodes,
 * visiting them): on the demo path that was about as much CPU as SQLite running the statements. A store
 * statement of fixed shape compiles to the same SQL text each time, with its values as parameters, so
 * it is compiled once here and each call only supplies the parameters.
 *
 * `build` is called once, with a unique marker string in place of each argument; the markers must end up
 * as bound parameters. A marker in the SQL text (used as an identifier or a literal) or missing from the
 * parameters (used to decide the query's shape) is a programming error, refused at the first run rather than
 * running a statement that ignores the caller's value. So `build` must not branch on its arguments: a
 * statement of several shapes is several statements. Parameters that are not markers (constants such as a
 * `limit(1)`) keep the value they were compiled with. Every run carries the template's queryId: fine for the store's
 * Kysely instances, which have no plugins (a plugin keeping state per queryId would see one query run many times).
 */
export function compiledStatement<A extends readonly unknown[], R>(
  build: (...values: A) => Compilable<R>,
  /** How many arguments `build` takes: its declared parameters unless it takes a rest parameter. */
  arity: number = build.length,
): CompiledStatement<A, R> {
  let template: { readonly compiled: CompiledQuery<R>; readonly slots: readonly number[] } | undefined;
  const compile = () => {
    const markers = Array.from({ length: arity }, (_, i) => `\u0000qerds-parameter-${i}\u0000`);
    const compiled = build(...(markers as unknown as A)).compile();
    const index = new Map(markers.map((m, i) => [m, i]));
    const slots = compiled.parameters.map((p) => (typeof p === 'string' ? (index.get(p) ?? -1) : -1));
    markers.forEach((marker, i) => {
      if (compiled.sql.includes(marker) || !slots.includes(i))
        throw new Error(
          `compiled statement: argument ${i} is not a bound parameter of ${JSON.stringify(compiled.sql)}`,
        );
    });
    return { compiled, slots };
  };
  return {
    async run(runner, ...values) {
      template ??= compile();
      const { compiled, slots } = template;
      const parameters = compiled.parameters.map((constant, at) => {
        const slot = slots[at]!;
        if (slot < 0) return constant;
        const value = values[slot];
        // Kysely leaves an undefined value out of an insert (the column's default) instead of binding it:
        // a compiled statement cannot, so undefined is refused rather than bound as NULL.
        if (value === undefined)
          throw new Error(`compiled statement: argument ${slot} is undefined (${compiled.sql})`);
        return value;
      });
      return runner.executeQuery<R>({ ...compiled, parameters });
    },
  };
}
