import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { collectPoolDomains, EXCLUDED_DOMAINS, renderPoolList } from './build-pool-list.js';
import { findHosts, miningPoolDomains, parsePoolList } from './pools.js';
import { keccak256 } from './wallets.js';

const corpusIoc = fileURLToPath(new URL('../../../../../shared/corpus/ioc', import.meta.url));
const shippedList = fileURLToPath(new URL('../../../../rules/ioc/mining-pools.txt', import.meta.url));

describe('mining-pool list', () => {
  it('matches a listed domain and its subdomains, not look-alikes', () => {
    const pools = parsePoolList('# test\nsupportxmr.com\nxmr.2miners.com\n', 't.txt');
    expect(pools.match('supportxmr.com')).toBe('supportxmr.com');
    expect(pools.match('pool.supportxmr.com')).toBe('supportxmr.com');
    expect(pools.match('POOL.SupportXMR.com.')).toBe('supportxmr.com');
    expect(pools.match('notsupportxmr.com')).toBeUndefined();
    expect(pools.match('2miners.com')).toBeUndefined();
    expect(pools.match('com')).toBeUndefined();
  });

  it('rejects a malformed line naming the file and line', () => {
    expect(() => parsePoolList('a.com\nhttp://b.com/x\n', 'pools.txt')).toThrow('pools.txt:2: not a lower-case domain name');
  });

  it('ships a normalised list with known pools and without the entries removed for precision', () => {
    const pools = miningPoolDomains();
    expect(pools.size).toBeGreaterThan(6000);
    for (const host of ['pool.supportxmr.com', 'xmr.2miners.com', 'gulf.moneroocean.stream', 'mine.c3pool.com', 'xmr.ipzse.com']) expect(pools.match(host), host).toBeDefined();
    for (const host of [...Object.keys(EXCLUDED_DOMAINS), 'x.ddns.net', 'github.com', 'googleapis.com', 'cloudflare.com', 'herokuapp.com', 'now.sh']) expect(pools.match(host), host).toBeUndefined();
    const lines = readFileSync(shippedList, 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(lines).toEqual([...new Set(lines)].sort());
  });

  it.skipIf(!existsSync(corpusIoc))('is exactly what the generator makes from the MIT-licensed corpus lists', () => {
    expect(readFileSync(shippedList, 'utf8')).toBe(renderPoolList(collectPoolDomains(corpusIoc)));
  });

  it('finds host names as whole tokens', () => {
    expect(findHosts('curl http://pool.minexmr.com:4444/x; tar xf a.minexmr.com.tar.gz; x@y.org').map((h) => h.host)).toEqual([
      'pool.minexmr.com',
      'a.minexmr.com.tar.gz',
      'y.org',
    ]);
  });
});

describe('listed hosts in text', () => {
  it('yields exactly the tokens findHosts yields that the list matches', () => {
    const pools = parsePoolList('supportxmr.com\nxmr.2miners.com\nminexmr.com\n', 't.txt');
    const text = [
      'curl http://POOL.SupportXMR.com:3333/x; tar xf a.minexmr.com.tar.gz; x@xmr.2miners.com',
      'eth.2miners.com notsupportxmr.com a.b_c.supportxmr.com supportxmr.com._x a..minexmr.com',
      `${'a.'.repeat(13)}minexmr.com ${'b'.repeat(64)}.minexmr.com self.supportxmr.comx os.path.join`,
    ].join('\n');
    const expected = findHosts(text).filter((h) => pools.match(h.host)).map((h) => ({ ...h, domain: pools.match(h.host) }));
    expect(pools.findIn(text)).toEqual(expected);
    expect(expected.map((h) => h.host)).toEqual(['POOL.SupportXMR.com', 'xmr.2miners.com', 'a.b_c.supportxmr.com', 'supportxmr.com']);
  });
});

describe('keccak256', () => {
  it('matches the published empty-input digest', () => {
    expect(keccak256(Buffer.alloc(0)).toString('hex')).toBe('c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470');
  });
});
