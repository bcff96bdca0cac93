export { planSqliteFrames } from './frame-planner.ts';
export { openScionDb } from './open-db.ts';
export { toScionError } from './sql-errors.ts';
export { SCION_VERSION } from './pragmas.ts';
export { RESULT_CODE } from './result-codes.ts';
export { FacadeVfs, Lock } from './facade-vfs.ts';
export type { FacadeFile, FileControl, LockLevel } from './facade-vfs.ts';
export { installScionVfs } from './scion-vfs.ts';
export type { ScionVfs, ScionVfsOptions } from './scion-vfs.ts';
