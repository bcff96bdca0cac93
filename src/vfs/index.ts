export { planSqliteFrames } from './frame-planner.ts';
export { openScionDb } from './open-db.ts';
export { toScionError, withVfsErrors } from './sql-errors.ts';
export { SCION_VERSION } from './pragmas.ts';
export { RESULT_CODE } from './result-codes.ts';
export { installScionVfs } from './scion-vfs.ts';
export type { ScionVfs, ScionVfsOptions } from './scion-vfs.ts';
