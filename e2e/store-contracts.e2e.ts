// Every check of the LocalStore and Catalog contracts (src/local/*.contract.ts), one test each, against
// OpfsStore and IdbCatalog in the browser worker. Vitest runs the same checks against the memory ones.
import { catalogChecks, durableCatalogChecks } from '../src/local/catalog.contract.ts';
import { localStoreChecks } from '../src/local/local-store.contract.ts';
import { test } from './fixtures.ts';

test.describe('OpfsStore (LocalStore contract)', () => {
  for (const name of Object.keys(localStoreChecks)) {
    test(name, async ({ scion }) => {
      await scion.run('localStoreCheck', name);
    });
  }
});

test.describe('IdbCatalog (Catalog contract)', () => {
  for (const name of Object.keys({ ...catalogChecks, ...durableCatalogChecks })) {
    test(name, async ({ scion }) => {
      await scion.run('catalogCheck', name);
    });
  }
});
