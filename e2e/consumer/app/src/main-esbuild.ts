// esbuild keeps `new URL(…, import.meta.url)` as it is: the build makes scion-worker.js from scion-db/worker
// next to this bundle (and copies sqlite3.wasm there), and the app says where it is.
import { main } from './app.ts';

main({ workerUrl: new URL('./scion-worker.js', import.meta.url) });
