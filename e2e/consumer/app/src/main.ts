// Vite (dev and build) finds the DB worker and sqlite3.wasm by itself.
import { main } from './app.ts';

main();
