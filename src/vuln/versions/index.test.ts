import { describe, expect, it } from 'vitest';
import type { VersionScheme } from '../model.js';
import { comparatorFor, inRange, schemeForEcosystem } from './index.js';
import { GARBAGE_VERSIONS } from '../../../test/support/version-checks.js';

const SCHEMES: VersionScheme[] = ['dpkg', 'apk', 'rpm', 'semver', 'pep440', 'maven', 'go', 'gem', 'nuget'];

describe('comparatorFor', () => {
  it('returns the comparator of each scheme, total and throw-free on hostile input', () => {
    for (const scheme of SCHEMES) {
      const comparator = comparatorFor(scheme);
      expect(comparator.scheme).toBe(scheme);
      for (const a of GARBAGE_VERSIONS) {
        expect(() => comparator.valid(a)).not.toThrow();
        for (const b of GARBAGE_VERSIONS) {
          const order = comparator.compare(a, b);
          expect(Number.isFinite(order), `${scheme}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(true);
        }
      }
    }
  });
});

describe('schemeForEcosystem', () => {
  it('maps OS releases and language ecosystems', () => {
    const expected: [string, VersionScheme | null][] = [
      ['debian:12', 'dpkg'],
      ['ubuntu:22.04', 'dpkg'],
      ['alpine:3.19', 'apk'],
      ['alpine:edge', 'apk'],
      ['wolfi:rolling', 'apk'],
      ['rhel:9', 'rpm'],
      ['centos:7', 'rpm'],
      ['rocky:8', 'rpm'],
      ['alma:9', 'rpm'],
      ['almalinux:9', 'rpm'],
      ['amazon:2', 'rpm'],
      ['amzn:2023', 'rpm'],
      ['fedora:39', 'rpm'],
      ['opensuse-leap:15', 'rpm'],
      ['opensuse-tumbleweed:20240101', 'rpm'],
      ['sles:15', 'rpm'],
      ['ol:8', 'rpm'],
      ['npm', 'semver'],
      ['pypi', 'pep440'],
      ['PyPI', 'pep440'],
      ['maven', 'maven'],
      ['go', 'go'],
      ['rubygems', 'gem'],
      ['crates.io', 'semver'],
      ['nuget', 'nuget'],
      ['packagist', 'semver'],
      ['hex', null],
      ['', null],
      ['plan9:4', null],
    ];
    for (const [ecosystem, scheme] of expected) expect(schemeForEcosystem(ecosystem), ecosystem).toBe(scheme);
  });
});

describe('inRange (OSV semantics)', () => {
  const semver = comparatorFor('semver');

  it('includes introduced, excludes fixed, includes last_affected', () => {
    const range = { introduced: '1.2.0', fixed: '1.4.0' };
    expect(inRange(semver, '1.1.9', range)).toBe(false);
    expect(inRange(semver, '1.2.0', range)).toBe(true);
    expect(inRange(semver, '1.3.9', range)).toBe(true);
    expect(inRange(semver, '1.4.0-rc.1', range)).toBe(true);
    expect(inRange(semver, '1.4.0', range)).toBe(false);
    const through = { introduced: '1.2.0', lastAffected: '1.3.5' };
    expect(inRange(semver, '1.3.5', through)).toBe(true);
    expect(inRange(semver, '1.3.6', through)).toBe(false);
  });

  it('treats "0", an empty or a missing introduced as "from the beginning", and no upper bound as unfixed', () => {
    for (const introduced of ['0', '', undefined]) {
      const range = introduced === undefined ? { fixed: '2.0.0' } : { introduced, fixed: '2.0.0' };
      expect(inRange(semver, '0.0.0-alpha', range), `introduced ${introduced}`).toBe(true);
      expect(inRange(semver, '1.9.9', range)).toBe(true);
      expect(inRange(semver, '2.0.0', range)).toBe(false);
    }
    expect(inRange(semver, '99.0.0', { introduced: '1.0.0' })).toBe(true);
    expect(inRange(semver, '0.9.0', { introduced: '1.0.0' })).toBe(false);
    expect(inRange(semver, '5.0.0', {})).toBe(true);
  });

  it('matches the corpus README examples: Alpine openssl and a Debian DSA', () => {
    // alpine-secdb v3.11 main: openssl secfixes 1.1.1d-r2 → fixed in 1.1.1d-r2
    const apk = comparatorFor('apk');
    const alpine = { introduced: '0', fixed: '1.1.1d-r2' };
    expect(inRange(apk, '1.1.1d-r0', alpine)).toBe(true);
    expect(inRange(apk, '1.1.1d-r2', alpine)).toBe(false);
    expect(inRange(apk, '1.1.1d-r3', alpine)).toBe(false);
    // DSA-5380-1: [bullseye] - xorg-server 2:1.20.11-1+deb11u6
    const dpkg = comparatorFor('dpkg');
    const dsa = { introduced: '0', fixed: '2:1.20.11-1+deb11u6' };
    expect(inRange(dpkg, '2:1.20.11-1+deb11u5', dsa)).toBe(true);
    expect(inRange(dpkg, '2:1.20.11-1+deb11u6', dsa)).toBe(false);
    expect(inRange(dpkg, '1.20.11-1+deb11u9', dsa)).toBe(true); // no epoch: older than any 2: version
    // a backport with ~ sorts before the release it backports
    expect(inRange(dpkg, '3.0.11-1~deb12u1', { fixed: '3.0.11-1~deb12u2' })).toBe(true);
    expect(inRange(dpkg, '3.0.11-1', { fixed: '3.0.11-1~deb12u2' })).toBe(false);
  });
});
