/** The results store (see store.ts): open one, record scans and layer results, read them back. */
export { openStore, parseStoreLocation, describeUrl, Store, type StoreLocation, type StoreSummary, type ScanRecordMeta, type UnfinishedImage, type UnfinishedScanMeta } from './store.js';
export { PrivateCluster, defaultClusterRoot } from './cluster.js';
export { StoreError } from './errors.js';
export { rulesDigest, imageNameOf } from './keys.js';
