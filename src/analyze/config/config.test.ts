import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { runImageChecks } from '../image-check.js';
import { githubTokenChecksum } from '../threats/secrets/validate.js';
import { configChecks } from './index.js';
import { curlPipeShellCheck } from './curl-pipe-shell.js';
import { historyVariables, imageSecretsCheck } from './image-secrets.js';
import { isRootUser, rootUserCheck } from './root-user.js';
import { sensitivePortCheck } from './sensitive-port.js';
import { setuidCheck } from './setuid.js';
import { imageFacts } from '../../../test/support/image-facts.js';

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const randomBase62 = (n: number) => [...randomBytes(n)].map((b) => BASE62[b % 62]).join('');
function githubToken(): string {
  const random = randomBase62(30);
  return `ghp_${random}${githubTokenChecksum(random)}`;
}

describe('root user', () => {
  it('flags an empty, root or uid-0 user', () => {
    for (const user of ['', 'root', '0', '0:0', 'root:root', ' 0:wheel ']) expect(isRootUser(user), user).toBe(true);
    for (const user of ['app', '1000', '1000:0', 'nobody', 'rooter']) expect(isRootUser(user), user).toBe(false);
    const [f] = rootUserCheck.check(imageFacts({ config: { user: '' } })).findings!;
    expect(f).toMatchObject({ category: 'misconfiguration', rule: 'misconfiguration/root-user', severity: 'low', title: 'Image runs as root (no USER set)', evidence: { user: '' } });
    expect(rootUserCheck.check(imageFacts({ config: { user: '0:0' } })).findings?.[0]?.title).toBe('Image runs as root (USER 0:0)');
    expect(rootUserCheck.check(imageFacts({ config: { user: 'app' } })).findings ?? []).toEqual([]);
    expect(rootUserCheck.check(imageFacts({ config: { user: '', os: 'windows' } })).findings ?? []).toEqual([]);
  });
});

describe('downloaded code run during the build', () => {
  const check = (...history: string[]) => curlPipeShellCheck.check(imageFacts({ history, layers: history.map(() => ({})) })).findings ?? [];

  it('finds curl/wget piped into a shell, process substitution and remote ADD', () => {
    const findings = check(
      '/bin/sh -c #(nop) ADD file:ce026b62356eec3ad1214f92be2c9dc063fe205bd5e600be3492c4dfb17148bd in / ',
      '/bin/sh -c curl -fsSL https://get.example.test/install.sh | sh',
      'RUN /bin/sh -c apt-get update && wget -qO- https://deb.example.test/setup_20.x | sudo -E bash - # buildkit',
      '/bin/sh -c bash <(curl -s https://raw.example.test/x.sh)',
      '/bin/sh -c sh -c "$(curl -fsSL https://raw.example.test/tools/install.sh)"',
      'ADD https://downloads.example.test/agent.tar.gz /opt/agent.tar.gz # buildkit',
      '/bin/sh -c #(nop) ADD https://downloads.example.test/x.jar in /app/x.jar ',
      '/bin/sh -c curl https://x.example.test/a.py | python3',
    );
    expect(findings.map((f) => [f.rule, f.layer, (f.evidence as { url?: string }).url])).toEqual([
      ['misconfiguration/curl-pipe-shell', 1, 'https://get.example.test/install.sh'],
      ['misconfiguration/curl-pipe-shell', 2, 'https://deb.example.test/setup_20.x'],
      ['misconfiguration/curl-pipe-shell', 3, 'https://raw.example.test/x.sh'],
      ['misconfiguration/curl-pipe-shell', 4, 'https://raw.example.test/tools/install.sh'],
      ['misconfiguration/add-remote-url', 5, 'https://downloads.example.test/agent.tar.gz'],
      ['misconfiguration/add-remote-url', 6, 'https://downloads.example.test/x.jar'],
      ['misconfiguration/curl-pipe-shell', 7, 'https://x.example.test/a.py'],
    ]);
    expect(findings[0]).toMatchObject({
      category: 'misconfiguration',
      severity: 'moderate',
      attack: ['T1105'],
      title: 'Build step runs a downloaded script in a shell: https://get.example.test/install.sh',
      evidence: { step: 1, layer: 1, command: '/bin/sh -c curl -fsSL https://get.example.test/install.sh | sh' },
    });
  });

  it('leaves downloads that are only data, verified ADD and local ADD alone', () => {
    expect(check(
      '/bin/sh -c curl -fsSL https://x.example.test/key.gpg | gpg --dearmor -o /usr/share/keyrings/x.gpg',
      '/bin/sh -c curl -s https://api.example.test/latest | python3 -c "import sys,json; print(json.load(sys.stdin))"',
      '/bin/sh -c curl -o /tmp/x.tgz https://x.example.test/x.tgz && echo ok | sha256sum -c',
      '/bin/sh -c curl -fsSL https://x.example.test/x.sh -o x.sh; sh x.sh',
      'ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://x.example.test/a.tgz / # buildkit',
      'COPY . /app # buildkit',
      '/bin/sh -c #(nop) ADD dir:7ec14b81316baa1a31c38c97686a8f030c98cba2035c968412749e33e0c4427e in /root/.data/ ',
      '/bin/sh -c echo curl is | shasum',
    )).toEqual([]);
  });

  it('masks credentials in the command it shows', () => {
    const token = githubToken();
    const [f] = check(`/bin/sh -c curl -H "Authorization: token ${token}" https://bob:hunter2hunter2@x.example.test/i.sh | bash`);
    const json = JSON.stringify(f);
    expect(json).not.toContain(token);
    expect(json).not.toContain('hunter2hunter2');
    expect((f!.evidence as { url: string }).url).toBe('https://bob:[redacted]@x.example.test/i.sh');
  });

  it('stays fast on a hostile history line', () => {
    const started = Date.now();
    check(`/bin/sh -c ${'curl '.repeat(50_000)}`, `${'ADD --x '.repeat(20_000)}`, `/bin/sh -c ${'sh '.repeat(50_000)}`);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('sensitive ports', () => {
  it('reports exposed remote-access, Docker API and database ports', () => {
    const findings = sensitivePortCheck.check(imageFacts({ config: { exposedPorts: ['80/tcp', '22/tcp', '2375/tcp', '6379', '53/udp', '11211/udp', '5900-5901/tcp', 'junk'] } })).findings!;
    expect(findings.map((f) => [f.title, f.severity])).toEqual([
      ['Image exposes SSH port 22/tcp', 'low'],
      ['Image exposes Docker API (plain HTTP) port 2375/tcp', 'moderate'],
      ['Image exposes Redis port 6379/tcp', 'moderate'],
      ['Image exposes Memcached port 11211/udp', 'moderate'],
      ['Image exposes VNC port 5900/tcp', 'moderate'],
      ['Image exposes VNC port 5901/tcp', 'moderate'],
    ]);
    expect(findings[0]).toMatchObject({ category: 'misconfiguration', rule: 'misconfiguration/sensitive-port', evidence: { port: 22, protocol: 'tcp', service: 'SSH' } });
    expect(sensitivePortCheck.check(imageFacts({ config: { exposedPorts: ['1-65535/tcp', '8080/tcp'] } })).findings).toEqual([]);
  });
});

describe('setuid files', () => {
  const base = { files: [
    { path: 'bin/su', mode: 0o4755 },
    { path: 'usr/bin/passwd', mode: 0o4755 },
    { path: 'usr/bin/chage', mode: 0o2755 },
    { path: 'bin/bash', mode: 0o755 },
  ] };

  it('reports setuid shells in any layer as backdoors and other added setuid files as misconfiguration', () => {
    const facts = imageFacts({ layers: [
      { files: [...base.files, { path: 'usr/local/bin/.x', mode: 0o4755 }] },
      { files: [
        { path: 'tmp/.hidden/bash', mode: 0o4755 },
        { path: 'usr/bin/sudo', mode: 0o4755 },
        { path: 'opt/app/helper', mode: 0o6750 },
        { path: 'usr/bin/passwd', mode: 0o4755 },
        { path: 'usr/bin/python3.11', mode: 0o4755 },
        { path: 'usr/bin/find', mode: 0o2755 },
      ] },
      { whiteouts: ['usr/bin/python3.11'] },
    ] });
    const findings = setuidCheck.check(facts).findings!;
    expect(findings.map((f) => [f.rule, f.path, f.layer, f.removedInLayer, f.severity])).toEqual([
      ['backdoor/setuid-shell', 'tmp/.hidden/bash', 1, null, 'high'],
      ['misconfiguration/setuid-added', 'usr/bin/sudo', 1, null, 'info'],
      ['misconfiguration/setuid-added', 'opt/app/helper', 1, null, 'moderate'],
      ['backdoor/setuid-shell', 'usr/bin/python3.11', 1, 2, 'high'],
      ['misconfiguration/setuid-added', 'usr/bin/find', 1, null, 'moderate'],
    ]);
    expect(findings[0]).toMatchObject({ category: 'backdoor', attack: ['T1548.001'], evidence: { mode: '4755', setuid: true, setgid: false } });
    expect(findings[2]!.evidence).toMatchObject({ mode: '6750', setuid: true, setgid: true });
    // The base layer's own setuid programs (and the unknown `.x` there) are the distribution's, not a finding.
    expect(findings.some((f) => f.layer === 0)).toBe(false);
  });

  it('finds a setuid shell in the base layer too', () => {
    const findings = setuidCheck.check(imageFacts({ layers: [{ files: [{ path: 'bin/busybox', mode: 0o4755 }] }] })).findings!;
    expect(findings.map((f) => [f.rule, f.path, f.layer])).toEqual([['backdoor/setuid-shell', 'bin/busybox', 0]]);
  });
});

describe('secrets in ENV and history', () => {
  it('finds tokens by pattern and credentials by variable name, never printing them', () => {
    const token = githubToken();
    const npmPassword = `Np${randomBase62(18)}`;
    const buildArg = `Ba${randomBase62(20)}`;
    const dbPassword = `Db${randomBase62(12)}`;
    const facts = imageFacts({
      config: { env: [
        'PATH=/usr/local/bin:/usr/bin',
        `GITHUB_TOKEN=${token}`,
        `DB_PASSWORD=${dbPassword}`,
        'POSTGRES_PASSWORD_FILE=/run/secrets/pg',
        'API_TOKEN=${API_TOKEN}',
        'MYSQL_ALLOW_EMPTY_PASSWORD=yes',
        'GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D',
        'SECRET_KEY=changeme',
      ] },
      history: [
        `ENV GITHUB_TOKEN=${token}`,
        `|2 NPM_TOKEN=${npmPassword} VERSION=1.2 /bin/sh -c npm ci # buildkit`,
        `/bin/sh -c #(nop)  ARG REGISTRY_PASSWORD=${buildArg}`,
        '/bin/sh -c echo hello',
      ],
      layers: [{}, {}, {}, {}],
    });
    const findings = imageSecretsCheck.check(facts).findings!;
    expect(findings.map((f) => [f.rule, f.severity, f.layer, (f.evidence as { variable?: string }).variable])).toEqual([
      ['secret/env-github-token', 'high', undefined, 'GITHUB_TOKEN'],
      ['secret/env-variable', 'moderate', undefined, 'DB_PASSWORD'],
      ['secret/history-variable', 'moderate', 1, 'NPM_TOKEN'],
      ['secret/history-variable', 'moderate', 2, 'REGISTRY_PASSWORD'],
    ]);
    expect(findings[0]).toMatchObject({ category: 'secret', attack: ['T1552.001'], title: 'GitHub token in image ENV GITHUB_TOKEN' });
    expect(findings[2]!.title).toBe('Credential in build variable NPM_TOKEN (history step 1)');
    const json = JSON.stringify(findings);
    for (const secret of [token, npmPassword, buildArg, dbPassword]) expect(json).not.toContain(secret.slice(2, 12));
  });

  it('finds tokens and URL passwords inside RUN commands', () => {
    const token = githubToken();
    const findings = imageSecretsCheck.check(imageFacts({ history: [
      `/bin/sh -c git clone https://x-access-token:${token}@github.com/o/r.git /src`,
      '/bin/sh -c pip install --index-url https://deploy:s3cr3tPassw0rdX@pypi.example.test/simple app',
      '/bin/sh -c pip install --index-url https://user:${PIP_PASSWORD}@pypi.example.test/simple app',
    ], layers: [{}, {}, {}] })).findings!;
    expect(findings.map((f) => [f.rule, f.layer])).toEqual([['secret/history-github-token', 0], ['secret/history-url-password', 1]]);
    expect(JSON.stringify(findings)).not.toContain('s3cr3tPassw0rdX');
  });

  it('parses BuildKit build args and ENV/ARG steps', () => {
    expect(historyVariables('|2 A=1 B=two /bin/sh -c make')).toEqual([['A', '1'], ['B', 'two']]);
    expect(historyVariables('ENV A="x y" B=z # buildkit')).toEqual([['A', 'x y'], ['B', 'z']]);
    expect(historyVariables('/bin/sh -c #(nop)  ENV LEGACY some value')).toEqual([['LEGACY', 'some value']]);
    expect(historyVariables('/bin/sh -c echo ENV A=b')).toEqual([]);
  });
});

describe('configChecks', () => {
  it('run together through runImageChecks on one image', () => {
    const facts = imageFacts({
      config: { user: 'root', exposedPorts: ['22/tcp'], env: [`GH_TOKEN=${githubToken()}`] },
      history: ['/bin/sh -c #(nop) ADD file:abc in / ', '/bin/sh -c curl -sL https://x.example.test/i | bash'],
      layers: [{ files: [{ path: 'bin/su', mode: 0o4755 }] }, { files: [{ path: 'usr/local/bin/zsh', mode: 0o4755 }] }],
    });
    const { findings, notices } = runImageChecks(configChecks, facts);
    expect(notices).toEqual([]);
    expect(findings.map((f) => f.rule).sort()).toEqual([
      'backdoor/setuid-shell',
      'misconfiguration/curl-pipe-shell',
      'misconfiguration/root-user',
      'misconfiguration/sensitive-port',
      'secret/env-github-token',
    ]);
    expect(findings.every((f) => f.source === 'static')).toBe(true);
  });
});
