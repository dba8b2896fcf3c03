import { isOsPackageType, osPackageUrl, packageUrl, type Finding, type OsInfo, type Package, type ScanNotice } from '../model/index.js';
import type { LayerEntryRecord, LayerResult } from './runner.js';

export interface MergedFile extends LayerEntryRecord {
  /** Layer that put this version of the file in place. */
  layer: number;
  /** Layer that deleted (whiteout, opaque directory) or replaced it; absent while the file is in the final view. */
  removedInLayer?: number;
}

export interface MergedImage {
  /** The filesystem a container would see: path → the file's topmost version. */
  files: Map<string, MergedFile>;
  /** File versions that a later layer deleted or replaced: still in the image's layers, so still analysed. */
  removed: MergedFile[];
  packages: Package[];
  findings: Finding[];
  os: OsInfo | null;
  notices: ScanNotice[];
}

/** Where os-release can live, most authoritative first. */
const OS_RELEASE_PATHS = ['etc/os-release', 'usr/lib/os-release'];

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/** The merged view as a tree, so a whiteout of a directory removes its subtree without scanning every path. */
class FileTree {
  readonly files = new Map<string, MergedFile>();
  private readonly children = new Map<string, Set<string>>();

  set(file: MergedFile): MergedFile | undefined {
    const previous = this.files.get(file.path);
    this.files.set(file.path, file);
    const parent = parentOf(file.path);
    let set = this.children.get(parent);
    if (!set) this.children.set(parent, (set = new Set()));
    set.add(file.path);
    return previous;
  }

  /** Removes `path` and, if it is a directory, everything under it; returns what was removed. */
  remove(path: string, includeSelf: boolean): MergedFile[] {
    const removed: MergedFile[] = [];
    const stack = [path];
    let first = true;
    while (stack.length > 0) {
      const p = stack.pop()!;
      const kids = this.children.get(p);
      if (kids) {
        stack.push(...kids);
        this.children.delete(p);
      }
      if (first && !includeSelf) {
        first = false;
        continue;
      }
      first = false;
      const f = this.files.get(p);
      if (f) {
        this.files.delete(p);
        this.children.get(parentOf(p))?.delete(p);
        removed.push(f);
      }
    }
    return removed;
  }
}

function packageKey(p: { type: string; name: string; version: string }): string {
  return `${p.type}\u0000${p.name}\u0000${p.version}`;
}

/**
 * Merges cached per-layer results in layer order: applies whiteouts and opaque directories, keeps the packages
 * whose database file is in the final view, and keeps every finding, marking those on files a later layer removed.
 */
export function mergeLayers(layers: readonly LayerResult[]): MergedImage {
  const tree = new FileTree();
  const removed: MergedFile[] = [];
  const notices: ScanNotice[] = [];

  layers.forEach((layer, index) => {
    const markRemoved = (files: MergedFile[]) => {
      for (const f of files) {
        f.removedInLayer = index;
        removed.push(f);
      }
    };
    for (const dir of layer.opaqueDirs) markRemoved(tree.remove(dir, false));
    for (const path of layer.whiteouts) markRemoved(tree.remove(path, true));
    for (const entry of layer.entries) {
      const existing = tree.files.get(entry.path);
      if (existing && existing.type === 'directory' && entry.type === 'directory') {
        tree.set({ ...entry, layer: existing.layer });
        continue;
      }
      if (existing?.type === 'directory') markRemoved(tree.remove(entry.path, false));
      const previous = tree.set({ ...entry, layer: index });
      if (previous) markRemoved([previous]);
    }
    for (const n of layer.notices) notices.push({ ...n, layer: index });
  });

  // Which layer's version of each path is live, so analyses of replaced or deleted versions can be told apart.
  const liveLayerOf = (path: string): number | undefined => tree.files.get(path)?.layer;
  const removedIn = new Map<string, number | undefined>();
  for (const f of removed) removedIn.set(`${f.layer}\u0000${f.path}`, f.removedInLayer);
  const removedInOf = (path: string, layer: number): number | undefined => removedIn.get(`${layer}\u0000${path}`);

  let os: OsInfo | null = null;
  for (const candidate of OS_RELEASE_PATHS) {
    const live = liveLayerOf(candidate);
    if (live === undefined) continue;
    const record = layers[live]?.analyses.find((a) => a.path === candidate && a.os);
    if (record?.os) {
      os = record.os;
      break;
    }
  }
  if (!os) {
    // Other release files (alpine-release, redhat-release …) reported by the OS analyzer.
    for (let i = layers.length - 1; i >= 0 && !os; i--) {
      for (const a of layers[i]!.analyses) {
        if (a.os && liveLayerOf(a.path) === i) {
          os = a.os;
          break;
        }
      }
    }
  }

  // Earliest layer in which each (path, package) appeared, for attribution of packages whose DB was rewritten.
  const firstSeen = new Map<string, number>();
  layers.forEach((layer, index) => {
    for (const a of layer.analyses) {
      for (const p of a.packages ?? []) {
        const key = `${a.path}\u0000${packageKey(p)}`;
        if (!firstSeen.has(key)) firstSeen.set(key, index);
      }
    }
  });

  const packages = new Map<string, Package>();
  const findings: Finding[] = [];
  layers.forEach((layer, index) => {
    for (const a of layer.analyses) {
      const live = liveLayerOf(a.path) === index;
      if (live) {
        for (const p of a.packages ?? []) {
          const layerOfPackage = firstSeen.get(`${a.path}\u0000${packageKey(p)}`) ?? index;
          const purl = p.purl ?? (isOsPackageType(p.type) ? osPackageUrl(p, os) : packageUrl('generic', undefined, p.name, p.version));
          const paths = p.paths && p.paths.length > 0 ? p.paths : [a.path];
          const existing = packages.get(purl);
          if (existing) {
            for (const path of paths) if (!existing.paths.includes(path)) existing.paths.push(path);
            existing.layer = Math.min(existing.layer, layerOfPackage);
          } else {
            const { paths: _ignored, ...rest } = p;
            packages.set(purl, { ...rest, purl, layer: layerOfPackage, paths: [...paths] });
          }
        }
      }
      for (const f of a.findings ?? []) {
        const removedIn = live ? null : (removedInOf(a.path, index) ?? null);
        findings.push({ ...f, source: f.source ?? 'static', layer: index, removedInLayer: removedIn });
      }
    }
  });

  const sorted = [...packages.values()].sort(
    (x, y) => x.type.localeCompare(y.type) || x.name.localeCompare(y.name) || x.version.localeCompare(y.version),
  );
  return { files: tree.files, removed, packages: sorted, findings, os, notices };
}
