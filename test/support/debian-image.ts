/**
 * A real Debian image for integration tests and the benchmark, built once with mmdebstrap (from the machine's
 * configured Debian sources) and cached in `.cache/images/`: the rootfs as one gzip layer plus a small app layer.
 * Streamed with gzip/tar/sha256 so a 250 MB rootfs never sits in memory.
 */
import { spawnSync, execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { extract as tarExtract, pack as tarPack } from 'tar-stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

export const imagesCacheDir = join(repoRoot, '.cache', 'images');

const execFileAsync = promisify(execFile);

export interface DebianImage {
  /** `oci-archive:` path of the image. */
  archive: string;
  /** The rootfs tar mmdebstrap wrote (layer 0, uncompressed). */
  rootfsTar: string;
  /** OCI layout directory with the blobs (for the tar floor in the benchmark). */
  layoutDir: string;
  layers: { digest: string; diffId: string; size: number }[];
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr?.toString().slice(-2000)}`);
}

export const DEBIAN_EXTRA_PACKAGES = ['python3', 'perl', 'curl', 'ca-certificates', 'libxml2'];

/** Builds (once) and returns the Debian image; `name` separates variants. */
export async function debianImage(name = 'debian-bookworm'): Promise<DebianImage> {
  const dir = join(imagesCacheDir, name);
  const archive = join(dir, 'image.oci.tar');
  const rootfsTar = join(dir, 'rootfs.tar');
  const layoutDir = join(dir, 'layout');
  const layersFile = join(dir, 'layers.json');
  if (existsSync(archive) && existsSync(layersFile) && existsSync(layoutDir)) {
    return { archive, rootfsTar, layoutDir, layers: JSON.parse(readFileSync(layersFile, 'utf8')) as DebianImage['layers'] };
  }
  mkdirSync(dir, { recursive: true });
  if (!existsSync(rootfsTar)) {
    const partial = join(dir, 'rootfs.partial.tar'); // mmdebstrap picks its output format from the extension
    run('mmdebstrap', ['--quiet', '--variant=minbase', `--include=${DEBIAN_EXTRA_PACKAGES.join(',')}`, 'bookworm', partial]);
    renameSync(partial, rootfsTar);
  }
  // layer 1: a small application layer (a node_modules tree), as a real image would have
  const appDir = mkdtempSync(join(tmpdir(), 'detonate-app-'));
  for (let i = 0; i < 200; i++) {
    const pkg = join(appDir, 'srv/app/node_modules', `pkg-${i}`);
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: `pkg-${i}`, version: `1.${i}.0`, license: 'MIT' }));
    writeFileSync(join(pkg, 'index.js'), `module.exports = ${i};\n`.repeat(50));
  }
  const appTar = join(dir, 'app.tar');
  run('tar', ['--sort=name', '--mtime=2024-01-01', '--owner=0', '--group=0', '-cf', appTar, '-C', appDir, 'srv']);
  rmSync(appDir, { recursive: true, force: true });

  const layers = await writeOciArchive(dir, [rootfsTar, appTar], [`mmdebstrap --variant=minbase --include=${DEBIAN_EXTRA_PACKAGES.join(',')} bookworm`, 'COPY srv/ /srv/']);
  rmSync(appTar);
  return { archive, rootfsTar, layoutDir, layers };
}

/**
 * Writes `dir/layout/` (an OCI layout with one gzip layer per tar, in order) and `dir/image.oci.tar` (the layout
 * archived), then `dir/layers.json`; returns the layers. The tars themselves are left in place.
 */
async function writeOciArchive(dir: string, tars: readonly string[], history: readonly string[], imageConfig: Record<string, unknown> = {}): Promise<DebianImage['layers']> {
  const layoutDir = join(dir, 'layout');
  const archive = join(dir, 'image.oci.tar');
  rmSync(layoutDir, { recursive: true, force: true });
  mkdirSync(join(layoutDir, 'blobs', 'sha256'), { recursive: true });
  const layers: DebianImage['layers'] = [];
  for (const tar of tars) {
    const diffId = await sha256File(tar);
    const gz = `${tar}.gz`;
    execFileSync('sh', ['-c', 'gzip -6 -n -c "$1" > "$2"', 'sh', tar, gz]);
    const digest = await sha256File(gz);
    renameSync(gz, join(layoutDir, 'blobs', 'sha256', digest.slice(7)));
    layers.push({ digest, diffId, size: statSync(join(layoutDir, 'blobs', 'sha256', digest.slice(7))).size });
  }
  const put = (data: Buffer): { digest: string; size: number } => {
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    writeFileSync(join(layoutDir, 'blobs', 'sha256', digest.slice(7)), data);
    return { digest, size: data.length };
  };
  const config = put(Buffer.from(JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: { Cmd: ['/bin/bash'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], ...imageConfig },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: history.map((created_by) => ({ created_by })),
  })));
  const manifest = put(Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.size })),
  })));
  writeFileSync(join(layoutDir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, platform: { os: 'linux', architecture: 'amd64' } }],
  }));
  writeFileSync(join(layoutDir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  run('tar', ['-cf', `${archive}.partial`, '-C', layoutDir, '.']);
  renameSync(`${archive}.partial`, archive);
  writeFileSync(join(dir, 'layers.json'), JSON.stringify(layers));
  return layers;
}

/** A Debian image a user would run, for the precision corpus: its packages and the config a real one would have. */
export interface BenignImageSpec {
  name: string;
  packages: readonly string[];
  config: Record<string, unknown>;
}

/**
 * Builds (once, cached like the Debian image) a one-layer image of Debian bookworm minbase with `packages` installed
 * by mmdebstrap from the machine's Debian sources, and `config` as its image config.
 */
export async function benignDebianImage(spec: BenignImageSpec): Promise<DebianImage> {
  const dir = join(imagesCacheDir, `benign-${spec.name}`);
  const archive = join(dir, 'image.oci.tar');
  const rootfsTar = join(dir, 'rootfs.tar');
  const layoutDir = join(dir, 'layout');
  const layersFile = join(dir, 'layers.json');
  const recipe = JSON.stringify({ packages: spec.packages, config: spec.config });
  const recipeFile = join(dir, 'recipe.json');
  if (existsSync(archive) && existsSync(layersFile) && existsSync(layoutDir) && existsSync(recipeFile) && readFileSync(recipeFile, 'utf8') === recipe) {
    return { archive, rootfsTar, layoutDir, layers: JSON.parse(readFileSync(layersFile, 'utf8')) as DebianImage['layers'] };
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const partial = join(dir, 'rootfs.partial.tar');
  // asynchronous, so that several images can be built at once
  await execFileAsync('mmdebstrap', ['--quiet', '--variant=minbase', `--include=${spec.packages.join(',')}`, 'bookworm', partial], { maxBuffer: 64 * 1024 * 1024 });
  renameSync(partial, rootfsTar);
  const layers = await writeOciArchive(dir, [rootfsTar], [`mmdebstrap --variant=minbase --include=${spec.packages.join(',')} bookworm`], spec.config);
  rmSync(rootfsTar);
  writeFileSync(recipeFile, recipe);
  return { archive, rootfsTar, layoutDir, layers };
}

/**
 * A large image for the flat-memory check: the Debian rootfs `copies` times over in one layer (copy N under
 * `copy-N/`, so every path is new), about 2 GB uncompressed at 8 copies. Built once from the Debian image's rootfs
 * tar, streamed (no copy is ever held in memory), and cached like it.
 */
export async function largeDebianImage(copies = 8): Promise<DebianImage> {
  const base = await debianImage();
  const dir = join(imagesCacheDir, `debian-bookworm-x${copies}`);
  const archive = join(dir, 'image.oci.tar');
  const layoutDir = join(dir, 'layout');
  const layersFile = join(dir, 'layers.json');
  const rootfsTar = join(dir, 'rootfs.tar');
  if (existsSync(archive) && existsSync(layersFile) && existsSync(layoutDir)) {
    return { archive, rootfsTar, layoutDir, layers: JSON.parse(readFileSync(layersFile, 'utf8')) as DebianImage['layers'] };
  }
  mkdirSync(dir, { recursive: true });
  const pack = tarPack();
  const written = pipeline(pack, createWriteStream(rootfsTar));
  for (let copy = 1; copy <= copies; copy++) {
    const extract = tarExtract();
    const reading = pipeline(createReadStream(base.rootfsTar), extract);
    for await (const entry of extract) {
      const name = entry.header.name.replace(/^(\.\/)?/, `./copy-${copy}/`);
      const header = { ...entry.header, name, ...(entry.header.type === 'link' && entry.header.linkname ? { linkname: entry.header.linkname.replace(/^(\.\/)?/, `./copy-${copy}/`) } : {}) };
      await pipeline(entry, pack.entry(header));
    }
    await reading;
  }
  pack.finalize();
  await written;
  await writeOciArchive(dir, [rootfsTar], [`${copies} copies of the Debian rootfs`]);
  return { archive, rootfsTar, layoutDir, layers: JSON.parse(readFileSync(layersFile, 'utf8')) as DebianImage['layers'] };
}

/**
 * The same image as a `docker save` archive (`manifest.json` naming the same config and gzip layer blobs), for tools
 * that read that format only (the Trivy build the benchmark runs as a peer refuses OCI archives). Built once.
 */
export function dockerArchiveOf(image: DebianImage): string {
  const dockerArchive = join(image.layoutDir, '..', 'image.docker.tar');
  if (existsSync(dockerArchive)) return dockerArchive;
  const index = JSON.parse(readFileSync(join(image.layoutDir, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const blob = (digest: string) => `blobs/sha256/${digest.slice('sha256:'.length)}`;
  const manifest = JSON.parse(readFileSync(join(image.layoutDir, blob(index.manifests[0]!.digest)), 'utf8')) as { config: { digest: string }; layers: { digest: string }[] };
  const staging = mkdtempSync(join(tmpdir(), 'detonate-docker-archive-'));
  try {
    writeFileSync(join(staging, 'manifest.json'), JSON.stringify([{ Config: blob(manifest.config.digest), RepoTags: ['detonate-bench/debian:latest'], Layers: manifest.layers.map((l) => blob(l.digest)) }]));
    run('tar', ['-cf', `${dockerArchive}.partial`, '-C', staging, 'manifest.json', '-C', image.layoutDir, 'blobs']);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  renameSync(`${dockerArchive}.partial`, dockerArchive);
  return dockerArchive;
}
