// webpack 5 with no configuration for scion-db: it bundles `new Worker(new URL(…, import.meta.url))` and
// sqlite3.wasm by itself. The entry is the app bundled by esbuild with its packages left as imports
// (prepare.ts), so that this config needs no TypeScript loader.
import { fileURLToPath } from 'node:url';

export default {
  mode: 'production',
  entry: './.webpack-src/main.js',
  output: { path: fileURLToPath(new URL('./dist/webpack/', import.meta.url)), filename: 'main.js', publicPath: 'auto', clean: true },
  experiments: { outputModule: true },
  performance: { hints: false },
  optimization: { minimize: false }, // minifying is most of webpack's time here and tests nothing of scion-db's
};
