/**
 * The results store (see store.ts): open one, record scans and layer results, read them back. The scan queue on the
 * same database is `./queue.js` (imported on its own: it loads pg-boss, which `scan --store` does not need).
 */
export { openStore, parseStoreLocation, describeUrl, Store, type StoreLocation, type StoreSummary, type ScanRecordMeta, type UnfinishedImage, type UnfinishedScanMeta, type DoneScanKey } from './store.js';
export { PrivateCluster, defaultClusterRoot } from './cluster.js';
export { StoreError } from './errors.js';
export { judgingDigest, rulesDigest, imageNameOf } from './keys.js';
export { RegistryLimits, type BucketSettings, type TakeResult, type RegistryLimitRow } from './registry-limits.js';
