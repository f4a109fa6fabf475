/**
 * How node-pg hands the master PostgreSQL's values: int8 (20) and numeric (1700) as JavaScript
 * numbers (ids, sizes and sums stay below 2^53), everything else as node-pg does (bytea as Buffer).
 * Every connection of the engine uses it: the writer, the readers, dumps and loads.
 */
import pg from 'pg';

export const PG_TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) => {
    if (oid === 20 || oid === 1700) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};
