// Nothing here is for scion-db: the proxy only puts the presign service on the page's origin, so the
// app can use the relative presignUrl '/presign' as the README shows.
import { defineConfig } from 'vite';

const presign = { '/presign': process.env.PRESIGN_ORIGIN ?? 'http://127.0.0.1:8787' };
export default defineConfig({
  server: { host: '127.0.0.1', proxy: presign },
  preview: { host: '127.0.0.1', proxy: presign },
});
