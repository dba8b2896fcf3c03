import { describe, expect, it } from 'vitest';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { analyzeFiles, type TreeFile } from '../../../../test/support/analyze-files.js';
import { secretFingerprint } from '../evidence.js';
import { secretsAnalyzer, isDependencyTestData } from './index.js';
import { redactSecrets, scanSecrets } from './engine.js';
import { parseSecretRules, secretRules } from './rules.js';
import { githubTokenChecksum, hasValidGithubChecksum, pemBody } from './validate.js';
import { DataFileError } from '../../../config/data-file.js';

// Every secret here is made at run time: no key or token is written in the repository.
const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function randomBase62(n: number): string {
  return [...randomBytes(n)].map((b) => BASE62[b % 62]).join('');
}
function randomFrom(alphabet: string, n: number): string {
  return [...randomBytes(n)].map((b) => alphabet[b % alphabet.length]).join('');
}
function githubStyleToken(prefix: string): string {
  const random = randomBase62(30);
  return `${prefix}${random}${githubTokenChecksum(random)}`;
}

const rsaPkcs1 = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
}).privateKey;
const ecSec1 = generateKeyPairSync('ec', {
  namedCurve: 'P-256',
  privateKeyEncoding: { type: 'sec1', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
}).privateKey;
const pkcs8 = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
}).privateKey;
const rsaLegacyEncrypted = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs1', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
}).privateKey;
// Node cannot write the OpenSSH format; the detector only looks at the armour and a base64 body.
const openssh = `-----BEGIN OPENSSH PRIVATE KEY-----\n${(randomBytes(300).toString('base64').match(/.{1,70}/g) ?? []).join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`;

const awsKeyId = `AKIA${randomFrom('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}`;
const awsSecret = randomFrom('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+', 40);
const ghp = githubStyleToken('ghp_');
const ghs = githubStyleToken('ghs_');
const npmToken = githubStyleToken('npm_');
const fineGrained = `github_pat_${randomBase62(22)}_${randomBase62(59)}`;
const gitlab = `glpat-${randomBase62(20)}`;
const slack = `xoxb-${randomFrom('0123456789', 12)}-${randomFrom('0123456789', 13)}-${randomBase62(24)}`;
const stripe = `sk_live_${randomBase62(24)}`;
const registryPassword = randomBase62(20);
const dockerAuth = Buffer.from(`deploy:${registryPassword}`).toString('base64');
const identityToken = randomBase62(48);
const gitPassword = randomBase62(24);
const netrcPassword = randomBase62(16);
const pgPassword = randomBase62(18);
const envPassword = `Zq${randomBase62(14)}`;
const gcpKeyJson = JSON.stringify({
  type: 'service_account',
  project_id: 'demo-project',
  private_key_id: randomBytes(20).toString('hex'),
  private_key: pkcs8,
  client_email: 'svc@demo-project.iam.gserviceaccount.com',
}, null, 2);

const SECRETS = [rsaPkcs1, rsaLegacyEncrypted, ecSec1, pkcs8, openssh, awsSecret, ghp, ghs, npmToken, fineGrained, gitlab, slack, stripe, registryPassword,
  dockerAuth, identityToken, gitPassword, netrcPassword, pgPassword, envPassword];

const positives: TreeFile[] = [
  { path: 'root/.ssh/id_rsa', content: rsaPkcs1, mode: 0o600 },
  { path: 'root/.ssh/legacy.pem', content: rsaLegacyEncrypted, mode: 0o600 },
  { path: 'home/app/.ssh/id_ed25519', content: openssh, mode: 0o600 },
  { path: 'etc/ssl/private/ssl-cert-snakeoil.key', content: pkcs8, mode: 0o640 },
  { path: 'srv/tls/server.key', content: ecSec1 },
  { path: 'app/config/gcp-key.json', content: gcpKeyJson },
  { path: 'root/.aws/credentials', content: `[default]\naws_access_key_id = ${awsKeyId}\naws_secret_access_key = ${awsSecret}\n` },
  { path: 'root/.bash_history', content: `ls\nexport GITHUB_TOKEN=${ghp}\ngit push\n` },
  { path: 'app/deploy.sh', content: `#!/bin/sh\ncurl -H "Authorization: token ${ghs}" https://api.github.com/x\n`, mode: 0o755 },
  { path: 'app/scripts/release.py', content: `TOKEN = "${fineGrained}"\nGL = '${gitlab}'\n` },
  { path: 'root/.npmrc', content: `//registry.npmjs.org/:_authToken=${npmToken}\n` },
  { path: 'app/settings.json', content: `{"slack": "${slack}", "stripe": "${stripe}"}` },
  { path: 'root/.docker/config.json', content: `{"auths": {"registry.example.test": {"auth": "${dockerAuth}"}, "other.example.test": {"identitytoken": "${identityToken}"}}}` },
  { path: 'root/.git-credentials', content: `https://deploy:${gitPassword}@git.example.test\n` },
  { path: 'root/.netrc', content: `machine ftp.example.test login bob password ${netrcPassword}\n` },
  { path: 'root/.pgpass', content: `# host:port:db:user:password\ndb.example.test:5432:app:app:${pgPassword}\n` },
  { path: 'app/.env', content: `NODE_ENV=production\nDB_PASSWORD=${envPassword}\n` },
];

describe('secrets detector', () => {
  it('finds each kind of secret with its rule, type, line and fingerprint', async () => {
    const { findings, notices } = await analyzeFiles([secretsAnalyzer], positives);
    expect(notices).toEqual([]);
    const got = findings.map((f) => `${f.path} ${f.rule} ${f.severity} ${(f.evidence as { line?: number }).line}`).sort();
    expect(got).toEqual([
      'app/.env secret/generic-password moderate 2',
      'app/config/gcp-key.json secret/gcp-service-account high 5',
      'app/deploy.sh secret/github-token high 2',
      'app/scripts/release.py secret/github-fine-grained-token high 1',
      'app/scripts/release.py secret/gitlab-token high 2',
      'app/settings.json secret/slack-token moderate 1',
      'app/settings.json secret/stripe-live-key high 1',
      'etc/ssl/private/ssl-cert-snakeoil.key secret/private-key high 1',
      'home/app/.ssh/id_ed25519 secret/private-key high 1',
      'root/.aws/credentials secret/aws-access-key high 3',
      'root/.bash_history secret/github-token high 2',
      'root/.docker/config.json secret/docker-identity-token high 1',
      'root/.docker/config.json secret/docker-registry-auth high 1',
      'root/.git-credentials secret/git-credentials high 1',
      'root/.netrc secret/netrc-password moderate 1',
      'root/.npmrc secret/npm-token high 1',
      'root/.pgpass secret/pgpass-password moderate 2',
      'root/.ssh/id_rsa secret/private-key high 1',
      'root/.ssh/legacy.pem secret/private-key high 1',
      'srv/tls/server.key secret/private-key high 1',
    ]);
    for (const f of findings) {
      expect(f.category).toBe('secret');
      expect(f.attack).toEqual(['T1552.001']);
      expect((f.evidence as { fingerprint: string }).fingerprint).toMatch(/^sha256:[0-9a-f]{16}$/);
    }
    const rsa = findings.find((f) => f.path === 'root/.ssh/id_rsa')!;
    expect(rsa.title).toBe('Private key (RSA)');
    expect(rsa.evidence).toMatchObject({ type: 'private-key', keyType: 'RSA' });
    // The fingerprint is the token's own, so the same token is recognised across files and images.
    const history = findings.find((f) => f.path === 'root/.bash_history')!;
    expect((history.evidence as { fingerprint: string }).fingerprint).toBe(secretFingerprint(ghp));
  });

  it('never puts a secret or any piece of one in a finding or notice', async () => {
    const { findings, notices } = await analyzeFiles([secretsAnalyzer], positives);
    const serialised = JSON.stringify({ findings, notices });
    for (const secret of SECRETS) {
      const compact = secret.replace(/-----[A-Z ]+-----|\s/g, '');
      for (let i = 0; i + 10 <= compact.length; i += 3) {
        expect(serialised.includes(compact.slice(i, i + 10)), `piece of a secret at ${i} leaked`).toBe(false);
      }
    }
  });

  it('gives one key the same fingerprint in a PEM file and escaped inside JSON', () => {
    const inPem = scanSecrets(pkcs8, { path: 'a.key', kinds: 64 });
    const inJson = scanSecrets(gcpKeyJson, { path: 'b.json', kinds: 8 });
    expect(inPem).toHaveLength(1);
    expect(inJson).toHaveLength(1);
    expect(inJson[0]!.rule.id).toBe('gcp-service-account');
    expect(inJson[0]!.fingerprint).toBe(inPem[0]!.fingerprint);
  });

  it('skips documented examples and placeholders', async () => {
    const { findings } = await analyzeFiles([secretsAnalyzer], [
      { path: 'root/.aws/credentials', content: 'aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n' },
      { path: 'root/.npmrc', content: '//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n' },
      { path: 'app/.env', content: 'API_KEY=<your-api-key>\nDB_PASSWORD=changeme123\nSECRET_TOKEN=xxxxxxxxxxxx\nPASSWORD_FILE=/run/secrets/db\n' },
      { path: 'app/.env.example', content: `DB_PASSWORD=${randomBase62(16)}\n` },
      { path: 'root/.git-credentials', content: 'https://user:<token>@github.com\n' },
      { path: 'root/.docker/config.json', content: '{"auths": {"r.example.test": {"auth": "bm90LWJhc2ljLWF1dGg="}}}' },
      { path: 'docs/readme.md.sh', content: '-----BEGIN RSA PRIVATE KEY-----\n...your key here...\n-----END RSA PRIVATE KEY-----\n' },
      { path: 'app/keys.txt.sh', content: '-----BEGIN RSA PRIVATE KEY-----\nthis is where the key goes when you have generated one with the tool of your choice and copied it\n-----END RSA PRIVATE KEY-----\n' },
    ]);
    expect(findings).toEqual([]);
  });

  it('rejects GitHub and npm tokens whose checksum does not match', () => {
    // The checksum of this random part, from a token GitHub has revoked, is published as a test vector.
    expect(githubTokenChecksum('fIkRGaBu5PeKsznMzXQOg3kETH1Sgx')).toBe('2oIfSC');
    expect(hasValidGithubChecksum(ghp)).toBe(true);
    const broken = `${ghp.slice(0, 34)}${ghp.slice(34) === 'AAAAAA' ? 'BBBBBB' : 'AAAAAA'}`;
    expect(hasValidGithubChecksum(broken)).toBe(false);
    expect(scanSecrets(`token=${broken}`, { kinds: 8 })).toEqual([]);
    expect(scanSecrets(`token=ghp_${'a1B2c3D4e5'.repeat(3)}ABCDEF`, { kinds: 8 })).toEqual([]);
  });

  it('does not report generic passwords outside credential files', async () => {
    const { findings } = await analyzeFiles([secretsAnalyzer], [
      { path: 'etc/app/app.conf', content: `password = ${randomBase62(16)}\n` },
      { path: 'app/settings.py', content: `SECRET_KEY = "${randomBase62(40)}"\n` },
    ]);
    expect(findings).toEqual([]);
  });

  it('skips test data of dependencies but not the application\'s own files', async () => {
    const { findings } = await analyzeFiles([secretsAnalyzer], [
      { path: 'usr/src/app/node_modules/https-proxy/test/fixtures/key.pem', content: rsaPkcs1 },
      { path: 'usr/local/lib/python3.12/site-packages/requests/tests/certs/server.key', content: rsaPkcs1 },
      { path: 'usr/lib/python3/dist-packages/urllib3/tests/key.pem', content: rsaPkcs1 },
      { path: 'usr/local/lib/python3.12/test/certdata/keycert.pem', content: rsaPkcs1 },
      { path: 'usr/share/doc/libxmlsec1-dev/examples/rsakey.pem', content: rsaPkcs1 },
      { path: 'app/test/fixtures/key.pem', content: ecSec1 },
      { path: 'usr/src/app/node_modules/some-lib/lib/key.pem', content: pkcs8 },
    ]);
    expect(findings.map((f) => f.path).sort()).toEqual(['app/test/fixtures/key.pem', 'usr/src/app/node_modules/some-lib/lib/key.pem']);
    expect(isDependencyTestData('app/node_modules/a/tests/x.json')).toBe(true);
    expect(isDependencyTestData('app/tests/x.json')).toBe(false);
    expect(isDependencyTestData('node_modules/test')).toBe(false);
  });

  it('reports PKCS#12 key stores by name as a weaker signal', async () => {
    const der = Buffer.concat([Buffer.from([0x30, 0x82, 0x0a, 0x00]), randomBytes(200)]);
    const { findings } = await analyzeFiles([secretsAnalyzer], [
      { path: 'app/certs/client.p12', content: der },
      { path: 'app/certs/not-der.pfx', content: randomBytes(200).fill(0x41, 0, 1) },
    ]);
    expect(findings.map((f) => [f.path, f.rule, f.severity])).toEqual([['app/certs/client.p12', 'secret/pkcs12-file', 'moderate']]);
  });

  it('survives hostile input: binary junk, huge lines, unterminated key armour', async () => {
    const armour = '-----BEGIN RSA PRIVATE KEY-----\n' + 'A'.repeat(70) + '\n';
    const files: TreeFile[] = [
      { path: 'app/junk.json', content: randomBytes(512 * 1024) },
      { path: 'app/huge-line.js', content: `var x = "${'ghp_'.repeat(200_000)}${'A'.repeat(1_000_000)}";` },
      { path: 'app/armour.pem', content: armour.repeat(20_000) },
      { path: 'app/pass.env', content: `${'password='.repeat(100_000)}` },
      { path: 'app/invalid-utf8.yaml', content: Buffer.from([0xff, 0xfe, 0x41, 0x4b, 0x49, 0x41, 0xc3, 0x28]) },
    ];
    const started = Date.now();
    const { findings, notices } = await analyzeFiles([secretsAnalyzer], files);
    expect(findings).toEqual([]);
    expect(notices).toEqual([]);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('caps the number of secrets reported for one file', async () => {
    const many = Array.from({ length: 40 }, () => githubStyleToken('ghp_')).join('\n');
    const { findings, notices } = await analyzeFiles([secretsAnalyzer], [{ path: 'root/.bash_history', content: many }]);
    expect(findings).toHaveLength(32);
    expect(notices[0]?.message).toMatch(/more than 32 secrets/);
  });

  it('wants credential, config, script, history and web files, not programs or data', () => {
    const header = (path: string, mode = 0o644) => ({ path, type: 'file' as const, size: 100, mode });
    expect(secretsAnalyzer.wants('root/.ssh/id_rsa', header('root/.ssh/id_rsa'))).toBe(true);
    expect(secretsAnalyzer.wants('app/.env', header('app/.env'))).toBe(true);
    expect(secretsAnalyzer.wants('etc/shadow', header('etc/shadow'))).toBe(true);
    expect(secretsAnalyzer.wants('usr/bin/ls', header('usr/bin/ls', 0o755))).toBe(false);
    expect(secretsAnalyzer.wants('var/lib/data.bin', header('var/lib/data.bin'))).toBe(false);
  });

  it('redacts secrets and URL passwords from text shown in evidence', () => {
    const text = `curl -u x https://bob:${gitPassword}@host.example.test/i.sh -H "token ${ghp}" | sh`;
    const out = redactSecrets(text);
    expect(out).not.toContain(gitPassword);
    expect(out).not.toContain(ghp);
    expect(out).toContain('https://bob:[redacted]@host.example.test/i.sh');
  });
});

describe('secret rules file', () => {
  it('ships rules that load and compile', () => {
    const set = secretRules();
    expect(set.rules.length).toBeGreaterThan(15);
    expect(set.digest).toMatch(/^[0-9a-f]{16}$/);
    expect(secretsAnalyzer.configKey).toBe(set.digest);
  });

  it('names the file and line of a bad rule', () => {
    const base = 'version: 1\nplaceholders: []\ndependencyDirs: []\nfixtureDirs: []\nsecretVariableNames: []\nsecretVariableMinLength: 8\nrules:\n';
    const rule = (regex: string) => `  - id: x\n    title: X\n    type: x\n    severity: high\n    keywords: [x]\n    regex: '${regex}'\n`;
    expect(() => parseSecretRules('my.yaml', base + rule('('))).toThrow(/my\.yaml:13 \(rule x\): regular expression does not compile/);
    expect(() => parseSecretRules('my.yaml', base + rule('a').replace('high', 'severe'))).toThrow(/my\.yaml:11: invalid at rules\.0\.severity/);
    expect(() => parseSecretRules('my.yaml', `${base}  - [oops`)).toThrow(DataFileError);
    expect(() => parseSecretRules('my.yaml', base + rule('a').replace("regex: 'a'", "regex: 'a'\n    secretGroup: 2"))).toThrow(/no group 2/);
  });

  it('reads the PEM body without armour headers or escapes', () => {
    expect(pemBody('Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\n' + 'QUJD'.repeat(20))).toBe('QUJD'.repeat(20));
    expect(pemBody('\\n' + 'QUJD'.repeat(10) + '\\n' + 'QUJD'.repeat(10) + '\\n')).toBe('QUJD'.repeat(20));
    expect(pemBody('some words, and more.')).toBeUndefined();
  });
});
