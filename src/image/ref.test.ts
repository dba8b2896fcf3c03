import { describe, expect, it } from 'vitest';
import { parseImageRef } from './ref.js';
import { ImageError } from './errors.js';

const D = `sha256:${'a'.repeat(64)}`;
const D2 = `sha256:${'0123456789abcdef'.repeat(4)}`;

describe('parseImageRef: normalisation as docker pull does it', () => {
  const cases: [input: string, normalised: string, registry: string, repository: string, apiHost: string][] = [
    ['nginx', 'docker.io/library/nginx:latest', 'docker.io', 'library/nginx', 'registry-1.docker.io'],
    ['nginx:1.25', 'docker.io/library/nginx:1.25', 'docker.io', 'library/nginx', 'registry-1.docker.io'],
    ['nginx:1.25-alpine3.19', 'docker.io/library/nginx:1.25-alpine3.19', 'docker.io', 'library/nginx', 'registry-1.docker.io'],
    ['library/nginx', 'docker.io/library/nginx:latest', 'docker.io', 'library/nginx', 'registry-1.docker.io'],
    ['docker.io/nginx', 'docker.io/library/nginx:latest', 'docker.io', 'library/nginx', 'registry-1.docker.io'],
    ['docker.io/library/nginx:stable', 'docker.io/library/nginx:stable', 'docker.io', 'library/nginx', 'registry-1.docker.io'],
    ['index.docker.io/nginx', 'docker.io/library/nginx:latest', 'docker.io', 'library/nginx', 'registry-1.docker.io'],
    ['index.docker.io/bitnami/redis:7.2', 'docker.io/bitnami/redis:7.2', 'docker.io', 'bitnami/redis', 'registry-1.docker.io'],
    ['bitnami/redis', 'docker.io/bitnami/redis:latest', 'docker.io', 'bitnami/redis', 'registry-1.docker.io'],
    ['user/repo/deeper', 'docker.io/user/repo/deeper:latest', 'docker.io', 'user/repo/deeper', 'registry-1.docker.io'],
    ['ghcr.io/owner/repo:v1.2.3', 'ghcr.io/owner/repo:v1.2.3', 'ghcr.io', 'owner/repo', 'ghcr.io'],
    ['quay.io/prometheus/node-exporter', 'quay.io/prometheus/node-exporter:latest', 'quay.io', 'prometheus/node-exporter', 'quay.io'],
    ['gcr.io/distroless/static-debian12:nonroot', 'gcr.io/distroless/static-debian12:nonroot', 'gcr.io', 'distroless/static-debian12', 'gcr.io'],
    ['public.ecr.aws/docker/library/alpine:3.19', 'public.ecr.aws/docker/library/alpine:3.19', 'public.ecr.aws', 'docker/library/alpine', 'public.ecr.aws'],
    ['mcr.microsoft.com/dotnet/runtime:8.0', 'mcr.microsoft.com/dotnet/runtime:8.0', 'mcr.microsoft.com', 'dotnet/runtime', 'mcr.microsoft.com'],
    ['registry-1.docker.io/library/nginx', 'registry-1.docker.io/library/nginx:latest', 'registry-1.docker.io', 'library/nginx', 'registry-1.docker.io'],
    ['localhost/x', 'localhost/x:latest', 'localhost', 'x', 'localhost'],
    ['localhost:5000/x', 'localhost:5000/x:latest', 'localhost:5000', 'x', 'localhost:5000'],
    ['localhost:5000/a/b:tag', 'localhost:5000/a/b:tag', 'localhost:5000', 'a/b', 'localhost:5000'],
    ['127.0.0.1:5000/app:1.0', '127.0.0.1:5000/app:1.0', '127.0.0.1:5000', 'app', '127.0.0.1:5000'],
    ['registry.example.com:8443/team/app', 'registry.example.com:8443/team/app:latest', 'registry.example.com:8443', 'team/app', 'registry.example.com:8443'],
    ['[::1]:5000/app:dev', '[::1]:5000/app:dev', '[::1]:5000', 'app', '[::1]:5000'],
    ['myhost:5000/x', 'myhost:5000/x:latest', 'myhost:5000', 'x', 'myhost:5000'],
    // "localhost:5000" without a slash is the image "localhost" with tag "5000", as in Docker
    ['localhost:5000', 'docker.io/library/localhost:5000', 'docker.io', 'library/localhost', 'registry-1.docker.io'],
    // a first component without "." or ":" that is not localhost is a Docker Hub namespace
    ['myhost/x', 'docker.io/myhost/x:latest', 'docker.io', 'myhost/x', 'registry-1.docker.io'],
    // uppercase in the first component makes it a host
    ['Foo/bar', 'Foo/bar:latest', 'Foo', 'bar', 'Foo'],
    ['a__b/c.d-e_f', 'docker.io/a__b/c.d-e_f:latest', 'docker.io', 'a__b/c.d-e_f', 'registry-1.docker.io'],
    ['foo--bar/baz', 'docker.io/foo--bar/baz:latest', 'docker.io', 'foo--bar/baz', 'registry-1.docker.io'],
    ['x:_tag', 'docker.io/library/x:_tag', 'docker.io', 'library/x', 'registry-1.docker.io'],
    ['x:UPPER.case-Tag', 'docker.io/library/x:UPPER.case-Tag', 'docker.io', 'library/x', 'registry-1.docker.io'],
  ];
  for (const [input, normalised, registry, repository, apiHost] of cases) {
    it(`${input} → ${normalised}`, () => {
      const ref = parseImageRef(input);
      expect(ref.toString()).toBe(normalised);
      expect(ref.registry).toBe(registry);
      expect(ref.repository).toBe(repository);
      expect(ref.apiHost).toBe(apiHost);
    });
  }
});

describe('parseImageRef: digests', () => {
  it('takes a digest without adding a default tag', () => {
    const ref = parseImageRef(`alpine@${D}`);
    expect(ref.toString()).toBe(`docker.io/library/alpine@${D}`);
    expect(ref.tag).toBeUndefined();
    expect(ref.digest).toBe(D);
    expect(ref.manifestReference).toBe(D);
  });
  it('keeps both tag and digest, and pulls by the digest', () => {
    const ref = parseImageRef(`ghcr.io/o/r:1.0@${D2}`);
    expect(ref.toString()).toBe(`ghcr.io/o/r:1.0@${D2}`);
    expect(ref.tag).toBe('1.0');
    expect(ref.manifestReference).toBe(D2);
  });
  it('handles a registry port before a digest', () => {
    const ref = parseImageRef(`localhost:5000/x@${D}`);
    expect(ref.registry).toBe('localhost:5000');
    expect(ref.repository).toBe('x');
    expect(ref.tag).toBeUndefined();
  });
  it('accepts sha512 digests', () => {
    const d = `sha512:${'b'.repeat(128)}`;
    expect(parseImageRef(`x@${d}`).digest).toBe(d);
  });
  it('uses the tag when there is no digest', () => {
    expect(parseImageRef('nginx').manifestReference).toBe('latest');
    expect(parseImageRef('nginx:1.25').manifestReference).toBe('1.25');
  });
});

describe('parseImageRef: familiar form and name', () => {
  it.each([
    ['nginx', 'nginx:latest', 'docker.io/library/nginx'],
    ['docker.io/library/nginx:1', 'nginx:1', 'docker.io/library/nginx'],
    ['bitnami/redis', 'bitnami/redis:latest', 'docker.io/bitnami/redis'],
    ['docker.io/library/foo/bar', 'library/foo/bar:latest', 'docker.io/library/foo/bar'],
    ['ghcr.io/o/r:2', 'ghcr.io/o/r:2', 'ghcr.io/o/r'],
  ])('%s', (input, familiar, name) => {
    const ref = parseImageRef(input);
    expect(ref.familiar).toBe(familiar);
    expect(ref.name).toBe(name);
  });
  it('withDigest keeps the repository and drops the tag', () => {
    const ref = parseImageRef('ghcr.io/o/r:2').withDigest(D);
    expect(ref.toString()).toBe(`ghcr.io/o/r@${D}`);
  });
});

describe('parseImageRef: invalid references give a clear ImageError', () => {
  const bad: [input: string, message: RegExp][] = [
    ['', /empty/],
    ['Nginx', /must be lowercase/],
    ['docker.io/Library/nginx', /must be lowercase/],
    ['ghcr.io/Owner/repo', /must be lowercase/],
    ['user/Repo:tag', /must be lowercase/],
    ['nginx:', /not a valid tag/],
    ['nginx:-bad', /not a valid tag/],
    ['nginx:.bad', /not a valid tag/],
    [`nginx:${'a'.repeat(129)}`, /not a valid tag/],
    ['nginx:a/b', /"nginx:a" is not a valid registry host/],
    ['nginx@sha256:abc', /not a valid digest/],
    [`nginx@sha256:${'A'.repeat(64)}`, /unsupported digest|wrong|invalid/],
    [`nginx@md5:${'a'.repeat(32)}`, /unsupported digest/],
    ['nginx@', /not a valid digest/],
    ['/nginx', /not a valid repository name|empty/],
    ['nginx/', /not a valid repository name/],
    ['a//b', /not a valid repository name/],
    ['ghcr.io/', /empty/],
    ['-nginx', /not a valid repository name/],
    ['nginx-', /not a valid repository name/],
    ['ngi nx', /whitespace/],
    ['docker://nginx', /not part of an image reference/],
    ['https://ghcr.io/o/r', /not part of an image reference/],
    ['host:99999/x', /out of range/],
    ['-host.com/x', /not a valid registry host/],
    ['a.b:port/x', /not a valid registry host|not a valid tag/],
    ['a'.repeat(64).replace(/a/g, 'f'), /image ID/],
    [`ghcr.io/${'a'.repeat(250)}`, /longer than 255/],
  ];
  for (const [input, message] of bad) {
    it(JSON.stringify(input.length > 60 ? `${input.slice(0, 60)}…` : input), () => {
      let error: unknown;
      try {
        parseImageRef(input);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ImageError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toContain('invalid image reference');
    });
  }
  it('hints at the prefix to drop', () => {
    expect(() => parseImageRef('docker://alpine:3')).toThrow(/drop the prefix: alpine:3/);
  });
});
